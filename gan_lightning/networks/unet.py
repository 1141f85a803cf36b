"""The pix2pix U-Net generator (Isola et al. 2017, Sec. 3.2.1 and appendix 6.1.1).

An encoder-decoder whose decoder layer at each resolution also sees the encoder's features
at that resolution (concatenated channels): low-level structure shared by input and output
(edges, positions) skips the bottleneck. There is no z: dropout is the only noise (Sec.
3.1). The paper keeps dropout on at test time; here it follows ``train()``/``eval()`` like
any dropout, so a caller that wants test-time noise puts the generator in train mode.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.layers import normalization_layer

UNetNorm = Literal["batch", "instance"]
DROPOUT_LAYERS = 3  # "CD512" × 3: the three innermost decoder layers carry dropout (appendix 6.1.1)


def unet_depth(image_size: int) -> int:
    """log2(image_size): the number of stride-2 convs that take the image down to 1×1."""
    if image_size < 8 or image_size & (image_size - 1):
        suggestion = max(8, 1 << (image_size - 1).bit_length()) if image_size > 0 else 8
        raise ValueError(
            f"UNetGenerator needs image_size a power of two >= 8 (it halves down to 1x1), got {image_size}: "
            f"use image_size {suggestion} (resize or pad the data to it)."
        )
    return image_size.bit_length() - 1


class UNetGenerator(nn.Module):
    """Encoder C64-C128-C256-C512-…-C512 down to 1×1, mirrored decoder with skips, tanh output.

    Laid out as the reference code's ``UnetSkipConnectionBlock`` (junyanz/pytorch-CycleGAN-
    and-pix2pix): an encoder layer is LeakyReLU(0.2)-Conv(4×4, stride 2)-Norm, the first
    without the activation and the norm (the paper: no norm on C64), the 1×1 bottleneck
    without the norm (batch norm of one value per sample at batch size 1, or instance norm of
    a 1×1 map, would zero it: the reference drops it too). A decoder layer is ReLU-ConvT(4×4,
    stride 2)-Norm-Dropout over [decoder, encoder] features, so each skip carries the
    encoder's *pre-activation* features and the decoder sees ReLU of them (and of the
    bottleneck), not the encoder's LeakyReLU. The ``min(3, depth - 1)`` innermost decoder
    layers have dropout (the paper's CD512 × 3; the reference code starts one layer further
    out); the last layer maps to ``out_channels`` with tanh. Widths double from
    ``base_width`` and stop at ``max_width``.

    Args:
        in_channels: channels of the source image.
        out_channels: channels of the translated image.
        image_size: side of the square input, a power of two >= 8; depth = log2(image_size).
        base_width: channels of the first encoder layer (64 in the paper).
        max_width: channel cap of the deep layers (512 in the paper).
        dropout: dropout rate of the innermost decoder layers (0.5 in the paper; 0 disables).
        norm: ``batch`` (pix2pix) or ``instance`` (batch size 1 with batch norm is instance norm).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        image_size: int,
        base_width: int = 64,
        max_width: int = 512,
        dropout: float = 0.5,
        norm: UNetNorm = "batch",
    ) -> None:
        super().__init__()
        if min(in_channels, out_channels, base_width, max_width) < 1:
            raise ValueError("in_channels, out_channels, base_width and max_width must be positive integers.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
        if norm not in ("batch", "instance"):
            raise ValueError(f"UNetGenerator norm must be 'batch' or 'instance', got {norm!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.image_size = image_size
        depth = unet_depth(image_size)
        widths = [min(base_width * 2**level, max_width) for level in range(depth)]
        self.encoder = nn.ModuleList(
            self._down(c_in, c_out, None if level in (0, depth - 1) else norm, outermost=level == 0)
            for level, (c_in, c_out) in enumerate(zip([in_channels, *widths[:-1]], widths, strict=True))
        )
        # decoder[0] is innermost: it sees the bottleneck alone, the others [decoder, skip].
        self.decoder = nn.ModuleList(
            self._up(
                widths[level] * (1 if level == depth - 1 else 2), widths[level - 1], norm, dropout, depth - 1 - level
            )
            for level in range(depth - 1, 0, -1)
        )
        self.output = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * widths[0], out_channels, 4, 2, 1), nn.Tanh())
        self.apply(dcgan_init)  # Isola et al. 2017, appendix 6.2: weights ~ N(0, 0.02)

    @staticmethod
    def _down(c_in: int, c_out: int, norm: UNetNorm | None, outermost: bool) -> nn.Sequential:
        """[LeakyReLU]-Conv-[Norm]; not in place: the input is also the skip of its level."""
        return nn.Sequential(
            nn.Identity() if outermost else nn.LeakyReLU(0.2),
            nn.Conv2d(c_in, c_out, 4, 2, 1, bias=norm is None),
            normalization_layer(norm or "none", c_out),
        )

    @staticmethod
    def _up(c_in: int, c_out: int, norm: UNetNorm, dropout: float, from_inside: int) -> nn.Sequential:
        """ReLU-ConvT-Norm-[Dropout] over [decoder, skip]; not in place: the input may be a skip."""
        noisy = from_inside < DROPOUT_LAYERS and dropout > 0
        return nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
            normalization_layer(norm, c_out),
            nn.Dropout(dropout) if noisy else nn.Identity(),
        )

    def encode(self, x: Tensor) -> list[Tensor]:
        """Encoder features before their activation (the skips), outermost first; the last is
        the 1×1 bottleneck."""
        if x.dim() != 4 or x.shape[1:] != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(
                f"UNetGenerator expects images of shape (B, {self.in_channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set in_channels/image_size to the data's."
            )
        features = []
        for layer in self.encoder:
            x = layer(x)
            features.append(x)
        return features

    def decode(self, features: list[Tensor]) -> Tensor:
        """Decoder over ``encode``'s features: each layer after the first also gets the skip."""
        skips = features[-2::-1]  # innermost skip first
        h = self.decoder[0](features[-1])
        for layer, skip in zip(self.decoder[1:], skips[:-1], strict=True):
            h = layer(torch.cat([h, skip], dim=1))
        return self.output(torch.cat([h, skips[-1]], dim=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))
