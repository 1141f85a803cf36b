"""ResNet generator and discriminator of SNGAN (Miyato et al. 2018, Appendix B.4), sized
from the image (28, 32, 64 px), optionally class-conditional (Miyato & Koyama 2018).

Generator block: BN → ReLU → upsample ×2 → conv3 → BN → ReLU → conv3, plus an upsampled
1×1-conv shortcut. With ``num_classes > 0`` the BNs are class-conditional. Discriminator
block: ReLU → conv3 → ReLU → conv3 → avg-pool, with a 1×1-conv shortcut; every layer is
spectrally normalised (``spectral=True``); features are ReLU'd, summed over space and
scored by a (projection) head.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_lightning.networks.conditional import ConditionalBatchNorm2d, ProjectionHead
from gan_lightning.networks.dcgan import upsampling_plan
from gan_lightning.networks.minibatch_std import MinibatchStdDev


class _BatchNorm(nn.Module):
    """BatchNorm2d that ignores labels, so blocks call every norm the same way."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        return self.norm(x)


def _norm(channels: int, num_classes: int) -> nn.Module:
    return ConditionalBatchNorm2d(channels, num_classes) if num_classes > 0 else _BatchNorm(channels)


class GeneratorBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_classes: int = 0) -> None:
        super().__init__()
        self.norm1 = _norm(in_channels, num_classes)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.norm2 = _norm(out_channels, num_classes)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.shortcut = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        h = F.interpolate(F.relu(self.norm1(x, labels)), scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h), labels)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DiscriminatorBlock(nn.Module):
    """``first=True`` is SNGAN's "optimized" first block: no ReLU on the raw image, and the
    shortcut pools before its 1×1 conv."""

    def __init__(self, in_channels: int, out_channels: int, downsample: bool, first: bool, spectral: bool) -> None:
        super().__init__()
        wrap = spectral_norm if spectral else (lambda layer: layer)
        self.conv1 = wrap(nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.conv2 = wrap(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.shortcut = wrap(nn.Conv2d(in_channels, out_channels, 1))
        self.downsample = downsample
        self.first = first

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(x if self.first else F.relu(x))
        h = self.conv2(F.relu(h))
        shortcut = x
        if self.first:
            shortcut = self.shortcut(F.avg_pool2d(x, 2) if self.downsample else x)
        else:
            shortcut = self.shortcut(x)
            shortcut = F.avg_pool2d(shortcut, 2) if self.downsample else shortcut
        return (F.avg_pool2d(h, 2) if self.downsample else h) + shortcut


class ResNetGenerator(nn.Module):
    """z → linear → (width, s, s) → one upsampling block per doubling → BN, ReLU, conv3, tanh.

    28 px starts at 7×7 (2 blocks), 32 px at 4×4 (3 blocks), as :func:`upsampling_plan`.
    """

    def __init__(
        self,
        latent_dim: int = 128,
        image_size: int = 32,
        channels: int = 3,
        width: int = 128,
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        if min(latent_dim, channels, width) < 1 or num_classes < 0:
            raise ValueError("latent_dim, channels and width must be positive and num_classes >= 0.")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        self.num_classes = num_classes
        self.start, doublings = upsampling_plan(image_size)
        self.width = width
        self.linear = nn.Linear(latent_dim, width * self.start * self.start)
        self.blocks = nn.ModuleList(GeneratorBlock(width, width, num_classes) for _ in range(doublings))
        self.out_norm = nn.BatchNorm2d(width)
        self.out_conv = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.linear(z).view(z.shape[0], self.width, self.start, self.start)
        for block in self.blocks:
            h = block(h, labels)
        return self.out_conv(F.relu(self.out_norm(h))).tanh()


class ResNetDiscriminator(nn.Module):
    """Optimized block (↓) → blocks (↓ until ≤ 8 px) → one block at that size → ReLU →
    sum over space → (projection) head.

    ``minibatch_std_group`` > 0 inserts a :class:`MinibatchStdDev` layer before the last
    block (Karras et al. 2018) — StyleGAN's discriminator does this. ``aux_classes`` > 0 adds
    an auxiliary classifier on the same features, :meth:`classify` (AC-GAN, Odena et al. 2017).
    """

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        width: int = 128,
        num_classes: int = 0,
        spectral: bool = True,
        minibatch_std_group: int = 0,
        aux_classes: int = 0,
    ) -> None:
        super().__init__()
        if image_size < 8 or image_size % 4:
            raise ValueError(
                f"ResNetDiscriminator needs an image size >= 8 divisible by 4 (28, 32, 64), got {image_size}."
            )
        self.image_size = image_size
        self.channels = channels
        self.num_classes = num_classes
        self.aux_classes = aux_classes
        blocks = [DiscriminatorBlock(channels, width, downsample=True, first=True, spectral=spectral)]
        size = image_size // 2
        while size > 8 and size % 2 == 0:
            blocks.append(DiscriminatorBlock(width, width, downsample=True, first=False, spectral=spectral))
            size //= 2
        self.blocks = nn.Sequential(*blocks)
        self.minibatch_std = MinibatchStdDev(minibatch_std_group) if minibatch_std_group > 0 else nn.Identity()
        extra = 1 if minibatch_std_group > 0 else 0
        self.last_block = DiscriminatorBlock(width + extra, width, downsample=False, first=False, spectral=spectral)
        self.head = ProjectionHead(width, num_classes, spectral=spectral)
        wrap = spectral_norm if spectral else (lambda layer: layer)
        self.classifier = wrap(nn.Linear(width, aux_classes)) if aux_classes > 0 else None

    def features(self, x: Tensor) -> Tensor:
        """Pooled features φ(x), shape (B, width)."""
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {self.channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set its channels/image_size to the data's."
            )
        h = self.last_block(self.minibatch_std(self.blocks(x)))
        return F.relu(h).sum(dim=(2, 3))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), labels)

    def classify(self, x: Tensor) -> Tensor:
        """Class logits (B, aux_classes) of the auxiliary classifier."""
        if self.classifier is None:
            raise ValueError(
                "This discriminator has no auxiliary classifier: set aux_classes to the number of classes."
            )
        return self.classifier(self.features(x))
