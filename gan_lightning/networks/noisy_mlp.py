"""The permutation-invariant MNIST networks of Salimans et al. 2016 ("Improved Techniques for
Training GANs", Sec. 5.1 and their ``improved-gan`` code): a classifier-discriminator whose
hidden layers are weight-normalised and regularised by additive Gaussian noise, and a small
batch-normalised generator."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm


class GaussianNoise(nn.Module):
    """``x + std · ε`` in training mode, ``x`` in eval mode: the paper's regulariser of D."""

    def __init__(self, std: float) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"Noise std must be >= 0, got {std}.")
        self.std = std

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.std == 0:
            return x
        return x + self.std * torch.randn_like(x)


def normalize_outputs(layer: nn.Conv2d | nn.Linear, x: Tensor) -> None:
    """Rescale a weight-normed layer's gain and bias so its outputs on ``x`` have per-channel
    mean 0 and standard deviation 1 (over the batch and any positions)."""
    pre = layer(x)
    dims = [0, *range(2, pre.dim())]  # all but the channel axis
    mean, std = pre.mean(dim=dims), pre.std(dim=dims) + 1e-6
    gain = layer.parametrizations.weight.original0
    gain.div_(std.view(-1, *[1] * (gain.dim() - 1)))
    layer.bias.sub_(mean).div_(std)


class DataInitClassifier(nn.Module):
    """What the semi-supervised classifier-discriminators share: a check of the input shape,
    the data-dependent initialization on the first batch seen in training mode (every DDP
    process takes rank 0's), and K logits from :meth:`features`. Subclasses build ``hidden``,
    ``head`` and ``input_noise``, set ``data_shape`` and ``initialized``, and say how each layer
    is initialized (:meth:`normalize_layers`)."""

    data_shape: tuple[int, ...]
    hidden: nn.Module
    head: nn.Module
    input_noise: nn.Module
    initialized: Tensor

    def layer_input(self, x: Tensor) -> Tensor:
        """The input as the first layer takes it (the images themselves, unless a subclass says)."""
        return x

    def features(self, x: Tensor) -> Tensor:
        """The layer G's feature matching reads: D's last hidden activations."""
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} expects samples of shape {self.data_shape} but got "
                f"{tuple(x.shape[1:])}: set data_shape to the data's shape."
            )
        if self.training and not self.initialized:
            self.initialize(x)
        return self.hidden(self.input_noise(self.layer_input(x)))

    @torch.no_grad()
    def initialize(self, x: Tensor) -> None:
        """Data-dependent initialization (Salimans & Kingma 2016, Sec. 3): scale and shift each
        layer so its pre-activations on ``x`` have mean 0 and standard deviation 1, layer by layer
        and without noise, as the paper's code does before training. Without it the default init
        leaves activations far below the noise and D learns slowly. Runs once, by itself, on the
        first batch seen in training mode (``initialized`` is saved with the weights)."""
        self.normalize_layers(self.layer_input(x))
        self.initialized.fill_(True)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            for tensor in self.parameters():  # every process starts from rank 0's batch, as DDP's own start
                torch.distributed.broadcast(tensor, src=0)

    def normalize_layers(self, x: Tensor) -> None:
        """:func:`normalize_outputs` on each weight-normed layer in turn, fed the previous ones' outputs."""
        raise NotImplementedError

    def logits(self, features: Tensor) -> Tensor:
        """Class logits (B, K) from :meth:`features`."""
        return self.head(features)

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(self.features(x))

    def classify(self, x: Tensor) -> Tensor:
        """Class logits (B, K): the network as a classifier (the same as ``forward``)."""
        return self(x)


class NoisyMLPClassifier(DataInitClassifier):
    """Flattened image → noise(``input_noise``) → [weight-normed Linear → ReLU → noise(``hidden_noise``)]
    per hidden width → K class logits (B, K).

    As a semi-supervised discriminator it is a (K+1)-class classifier whose "generated" logit is
    fixed at 0 (:class:`~gan_lightning.tasks.SemiSupervisedGAN`). :meth:`features` is the last
    hidden layer (before its noise), the layer the generator's feature matching reads, as in the
    paper's code. The defaults are the paper's MNIST network (1000-500-250-250-250, noise 0.3 on
    the input and 0.5 on hidden layers). ``data_init`` initializes the weights from the first
    training batch (:meth:`initialize`), as the paper does.
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (1, 28, 28),
        hidden_dims: Sequence[int] = (1000, 500, 250, 250, 250),
        classes: int = 10,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        data_init: bool = True,
    ) -> None:
        super().__init__()
        if not hidden_dims:
            raise ValueError("NoisyMLPClassifier needs at least one hidden layer (its features).")
        if classes < 2:
            raise ValueError(f"classes must be >= 2, got {classes}.")
        self.data_shape = tuple(data_shape)
        self.aux_classes = classes
        self.input_noise = GaussianNoise(input_noise)
        layers: list[nn.Module] = []
        sizes = [math.prod(self.data_shape), *hidden_dims]
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            if i:
                layers.append(GaussianNoise(hidden_noise))
            layers += [weight_norm(nn.Linear(fan_in, fan_out)), nn.ReLU()]
        self.hidden = nn.Sequential(*layers)
        self.head = nn.Sequential(GaussianNoise(hidden_noise), weight_norm(nn.Linear(sizes[-1], classes)))
        self.register_buffer("initialized", torch.tensor(not data_init))

    def layer_input(self, x: Tensor) -> Tensor:
        return x.flatten(start_dim=1)

    def normalize_layers(self, x: Tensor) -> None:
        linears = [m for m in self.modules() if isinstance(m, nn.Linear)]
        for i, linear in enumerate(linears):
            normalize_outputs(linear, x)
            x = torch.relu(linear(x)) if i < len(linears) - 1 else x


class BatchNormMLPGenerator(nn.Module):
    """z → [Linear → BatchNorm → Softplus] per hidden width → weight-normed Linear → tanh → image:
    the paper's MNIST generator (500-500), with tanh for data in [-1, 1] (theirs: sigmoid on [0, 1])."""

    def __init__(
        self, data_shape: Sequence[int] = (1, 28, 28), latent_dim: int = 100, hidden_dims: Sequence[int] = (500, 500)
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        layers: list[nn.Module] = []
        sizes = [latent_dim, *hidden_dims]
        for fan_in, fan_out in itertools.pairwise(sizes):
            layers += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out), nn.Softplus()]
        layers += [weight_norm(nn.Linear(sizes[-1], math.prod(self.data_shape))), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.data_shape)
