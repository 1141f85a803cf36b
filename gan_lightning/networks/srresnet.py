"""SRGAN's networks (Ledig et al. 2017, Fig. 4): the SRResNet generator and the SRGAN discriminator.

The generator works at low resolution (16 residual blocks) and upsamples only at the end
with sub-pixel convolutions (Shi et al. 2016): a conv makes 4× the channels and
``PixelShuffle(2)`` rearranges them into a 2× larger image, learned instead of interpolated
and without the checkerboard of strided transposed convs.

Deliberate deviation: by default :class:`SRResNet` predicts a *residual over the bicubic
upscaling* (output = bicubic(LR) + G(LR), Kim et al. 2016, VDSR), where the paper's network
makes the whole image. The last conv starts at zero, so training starts at the bicubic
baseline instead of far below it: on photographs, a network that must also learn every
colour mean was still 20 dB under bicubic after 800 iterations (BENCHMARKS.md, photographs), while the residual
network is above bicubic within the MSE warm-up. ``residual=False`` is the paper's network.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.networks.layers import Normalization, maybe_spectral, normalization_layer

SCALES = (2, 4, 8)
MAX_POOL = 6  # the paper's D sees 96 px: 96 / 2^4 = 6×6 features enter its dense layer


class SRResidualBlock(nn.Module):
    """x + [Conv 3×3, BN, PReLU, Conv 3×3, BN](x) (Ledig et al. 2017, Fig. 4; Gross & Wilber 2016);
    without ``batch_norm``, x + [Conv, PReLU, Conv](x) with biases (EDSR, Lim et al. 2017)."""

    def __init__(self, width: int, batch_norm: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(width) if batch_norm else nn.Identity(),
            nn.PReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(width) if batch_norm else nn.Identity(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """Low-resolution image (B, C, h, w) in [-1, 1] → (B, C, scale·h, scale·w) in [-1, 1].

    9×9 conv + PReLU; ``num_blocks`` residual blocks; conv-BN plus a long skip from the first
    layer; log2(scale) × (conv to 4·width, PixelShuffle(2), PReLU); 9×9 conv.

    With ``residual`` (the default) that last conv is the correction added to the bicubic
    upscale of the input, :func:`upscale_bicubic`; it is initialised to zero, so the untrained
    network *is* bicubic interpolation, and the sum is kept in [-1, 1] by
    :func:`clamp_straight_through`. Without it, the network ends in **tanh** (the paper's
    network; tanh and not identity: Ledig et al. train on HR images in [-1, 1], Sec. 4.1).
    Either way the output lives in the data's range: a generator that can step outside it
    hands D a free tell (values no real image has).

    Args:
        channels: image channels (input and output).
        scale: upsampling factor, 2, 4 or 8 (one sub-pixel ×2 stage each).
        width: feature channels (64 in the paper).
        num_blocks: residual blocks B (16 in the paper).
        residual: predict a correction to the bicubic upscale (default) or the whole image (paper).
        batch_norm: BatchNorm in the residual blocks (paper) or none (EDSR).
    """

    def __init__(
        self,
        channels: int,
        scale: int = 4,
        width: int = 64,
        num_blocks: int = 16,
        residual: bool = True,
        batch_norm: bool = True,
    ) -> None:
        super().__init__()
        if scale not in SCALES:
            raise ValueError(f"SRResNet scale must be one of {SCALES} (x2 sub-pixel stages), got {scale}.")
        if channels < 1 or width < 1 or num_blocks < 0:
            raise ValueError("channels and width must be positive integers, num_blocks >= 0.")
        self.channels = channels
        self.scale = scale
        self.residual = residual
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(
            *(SRResidualBlock(width, batch_norm) for _ in range(num_blocks)),
            nn.Conv2d(width, width, 3, padding=1, bias=not batch_norm),
            nn.BatchNorm2d(width) if batch_norm else nn.Identity(),
        )
        upsampling: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            upsampling += [nn.Conv2d(width, 4 * width, 3, padding=1), nn.PixelShuffle(2), nn.PReLU()]
        last = nn.Conv2d(width, channels, 9, padding=4)
        if residual:
            nn.init.zeros_(last.weight)  # the untrained network is bicubic interpolation
            nn.init.zeros_(last.bias)
        self.tail = nn.Sequential(*upsampling, last, *([] if residual else [nn.Tanh()]))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise ValueError(
                f"SRResNet expects low-resolution images (B, {self.channels}, h, w), got {tuple(x.shape)}: "
                "set channels to the data's."
            )
        features = self.head(x)
        output = self.tail(features + self.body(features))
        if not self.residual:
            return output
        return clamp_straight_through(upscale_bicubic(x, self.scale) + output)


def upscale_bicubic(images: Tensor, scale: int) -> Tensor:
    """Bicubic interpolation by ``scale``, clamped to [-1, 1]: the same values as the baseline
    :func:`gan_lightning.metrics.bicubic_upscale` (networks do not import metrics)."""
    return F.interpolate(images, scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


def clamp_straight_through(images: Tensor) -> Tensor:
    """``images`` clamped to [-1, 1] in value, with the gradient of the identity: D never sees
    a value outside the data's range, while a pixel pushed past it still gets the loss's
    gradient back (a plain clamp would give it none and leave it stuck)."""
    return images + (images.clamp(-1, 1) - images).detach()


class SRGANDiscriminator(nn.Module):
    """Eight 3×3 convs (w, w, 2w, 2w, 4w, 4w, 8w, 8w channels; stride 2 on every second, BN
    after all but the first, LeakyReLU 0.2), then dense 1024, LeakyReLU, dense 1: one raw logit
    per image, shape ``(B,)`` (the paper's sigmoid lives in the loss).

    The paper's dense layer sees the 6×6 map of a 96-px crop. Here the map is average-pooled
    (adaptively) to ``min(ceil(image_size / 16), 6)`` squared: exactly the paper at 96 px, the
    full 2×2 map for 28-32 px digits, and a bounded dense layer for large images.

    Args:
        channels: image channels.
        image_size: side of the high-resolution images D judges.
        base_width: channels of the first conv (64 in the paper).
        dense_width: units of the hidden dense layer (1024 in the paper).
        norm: ``batch`` (paper), or ``layer``/``spectral``/``none`` for other objectives.
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        base_width: int = 64,
        dense_width: int = 1024,
        norm: Normalization = "batch",
    ) -> None:
        super().__init__()
        if min(channels, image_size, base_width, dense_width) < 1:
            raise ValueError("channels, image_size, base_width and dense_width must be positive integers.")
        self.channels = channels
        self.image_size = image_size
        widths = [base_width * 2 ** (i // 2) for i in range(8)]
        layers: list[nn.Module] = [
            maybe_spectral(nn.Conv2d(channels, widths[0], 3, padding=1), norm),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for i in range(1, 8):
            conv = nn.Conv2d(
                widths[i - 1], widths[i], 3, stride=1 + i % 2, padding=1, bias=norm in ("none", "spectral")
            )
            layers += [
                maybe_spectral(conv, norm),
                normalization_layer(norm, widths[i]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        pool = min(math.ceil(image_size / 16), MAX_POOL)
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(pool), nn.Flatten())
        self.head = nn.Sequential(
            maybe_spectral(nn.Linear(widths[-1] * pool * pool, dense_width), norm),
            nn.LeakyReLU(0.2, inplace=True),
            maybe_spectral(nn.Linear(dense_width, 1), norm),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"SRGANDiscriminator expects high-resolution images (B, {self.channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set its channels/image_size to the data's."
            )
        return self.head(self.features(x)).flatten()
