"""A small convolutional classifier-discriminator for the semi-supervised GAN, after the
CIFAR-10/SVHN discriminator of Salimans et al. 2016 ("Improved Techniques for Training GANs",
their ``improved-gan`` code): Gaussian noise on the input, weight-normalised 3x3 convolutions
with leaky ReLU (0.2), dropout between stages, strided downsampling, a 1x1 ("network in
network") layer, global average pooling, and a weight-normalised dense layer to K logits."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from gan_lightning.networks.noisy_mlp import DataInitClassifier, GaussianNoise, normalize_outputs


def _conv(fan_in: int, fan_out: int, kernel: int, stride: int, padding: int, slope: float) -> list[nn.Module]:
    return [weight_norm(nn.Conv2d(fan_in, fan_out, kernel, stride=stride, padding=padding)), nn.LeakyReLU(slope)]


class NoisyConvClassifier(DataInitClassifier):
    """Image → noise(``input_noise``) → stages → global average pool → K class logits (B, K).

    Each stage but the last is a 3x3 convolution and a strided 3x3 convolution (halving the
    size), then dropout (``dropout``); the last stage is an unpadded 3x3 convolution and a 1x1
    convolution. Every convolution is weight-normalised and followed by leaky ReLU
    (``negative_slope``). With the default widths 32-64-128 a 28x28 digit goes 28 → 14 → 7 → 5.

    As a semi-supervised discriminator it is a (K+1)-class classifier whose "generated" logit is
    fixed at 0 (:class:`~gan_lightning.tasks.SemiSupervisedGAN`). :meth:`features` is the
    pooled last stage (B, ``widths[-1]``), the layer the generator's feature matching reads, as
    in the paper's code. Unlike :class:`~gan_lightning.networks.NoisyMLPClassifier` it is not
    permutation-invariant: it sees that neighbouring pixels belong together, which is what lets
    few labels go far. ``data_init`` initializes the weights from the first training batch
    (:meth:`initialize`), as the paper does.
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (1, 28, 28),
        widths: Sequence[int] = (32, 64, 128),
        classes: int = 10,
        input_noise: float = 0.3,
        dropout: float = 0.5,
        negative_slope: float = 0.2,
        data_init: bool = True,
    ) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"NoisyConvClassifier needs at least two stage widths, got {list(widths)}.")
        if classes < 2:
            raise ValueError(f"classes must be >= 2, got {classes}.")
        self.data_shape = tuple(data_shape)
        self.aux_classes = classes
        self.input_noise = GaussianNoise(input_noise)
        layers: list[nn.Module] = []
        fan_in = self.data_shape[0]
        for width in widths[:-1]:
            layers += _conv(fan_in, width, 3, 1, 1, negative_slope) + _conv(width, width, 3, 2, 1, negative_slope)
            layers.append(nn.Dropout(dropout))
            fan_in = width
        layers += _conv(fan_in, widths[-1], 3, 1, 0, negative_slope) + _conv(
            widths[-1], widths[-1], 1, 1, 0, negative_slope
        )
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.hidden = nn.Sequential(*layers)
        self.head = weight_norm(nn.Linear(widths[-1], classes))
        self.register_buffer("initialized", torch.tensor(not data_init))

    def normalize_layers(self, x: Tensor) -> None:
        for layer in [*self.hidden, self.head]:
            if isinstance(layer, nn.Conv2d | nn.Linear):
                normalize_outputs(layer, x)
            if not isinstance(layer, nn.Dropout):
                x = layer(x)
