"""ResNet generator and discriminator of SNGAN (Miyato et al. 2018, Table 4 and Appendix
B.4), sized from the image (8 to 64 px), optionally class-conditional (Miyato & Koyama 2018).

Generator block: BN → ReLU → upsample ×2 → conv3 → BN → ReLU → conv3, plus an upsampled
1×1-conv shortcut. With ``num_classes > 0`` the BNs are class-conditional. Discriminator:
an optimized down block, a down block and two plain blocks (ReLU → conv3 → ReLU → conv3,
identity shortcut unless the block downsamples or changes channels); every layer is
spectrally normalised (``spectral=True``); features are ReLU'd, summed over space and
scored by a (projection) head.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_lightning.networks.conditional import ConditionalBatchNorm2d, ProjectionHead, auxiliary_logits
from gan_lightning.networks.dcgan import upsampling_plan
from gan_lightning.networks.init import xavier_init
from gan_lightning.networks.minibatch_std import MinibatchStdDev

_RESIDUAL_GAIN = 2**0.5  # Glorot gain inside residual branches (the SNGAN reference code)


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


def _spectral(layer: nn.Module, spectral: bool, gain: float) -> nn.Module:
    """Glorot init with ``gain`` on the raw weight, then spectral norm if asked for."""
    xavier_init(layer, gain)
    return spectral_norm(layer) if spectral else layer


class OptimizedBlock(nn.Module):
    """SNGAN's first discriminator block (Miyato et al. 2018, Table 4 "ResBlock down" at the
    input; ``OptimizedBlock`` in their code): conv3 → ReLU → conv3 → avg-pool, no ReLU on the
    raw image, and a shortcut that pools *before* its 1×1 conv (4× cheaper, same function)."""

    def __init__(self, in_channels: int, out_channels: int, spectral: bool) -> None:
        super().__init__()
        self.conv1 = _spectral(nn.Conv2d(in_channels, out_channels, 3, padding=1), spectral, _RESIDUAL_GAIN)
        self.conv2 = _spectral(nn.Conv2d(out_channels, out_channels, 3, padding=1), spectral, _RESIDUAL_GAIN)
        self.shortcut = _spectral(nn.Conv2d(in_channels, out_channels, 1), spectral, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(x))), 2)
        return h + self.shortcut(F.avg_pool2d(x, 2))


class DiscriminatorBlock(nn.Module):
    """ReLU → conv3 → ReLU → conv3 (→ avg-pool), plus a shortcut that is the identity when
    the shapes match and a learnable 1×1 conv (→ avg-pool) only when the block changes the
    channel count or downsamples (Miyato et al. 2018, App. B.4; ``Block`` in their code)."""

    def __init__(self, in_channels: int, out_channels: int, downsample: bool, spectral: bool) -> None:
        super().__init__()
        self.conv1 = _spectral(nn.Conv2d(in_channels, out_channels, 3, padding=1), spectral, _RESIDUAL_GAIN)
        self.conv2 = _spectral(nn.Conv2d(out_channels, out_channels, 3, padding=1), spectral, _RESIDUAL_GAIN)
        learnable = downsample or in_channels != out_channels
        self.shortcut = _spectral(nn.Conv2d(in_channels, out_channels, 1), spectral, 1.0) if learnable else None
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv2(F.relu(self.conv1(F.relu(x))))
        shortcut = x if self.shortcut is None else self.shortcut(x)
        if self.downsample:
            h, shortcut = F.avg_pool2d(h, 2), F.avg_pool2d(shortcut, 2)
        return h + shortcut


def downsampling_plan(image_size: int) -> list[int]:
    """Feature sizes after each downsampling block: the optimized block and at least one
    more halve the image (the paper's 32 px: 16, 8), and further blocks halve it while it is
    above 8 px and even (64 px: 32, 16, 8; 28 px: 14, 7; 8 px: 4, 2)."""
    if image_size < 8 or image_size % 4:
        raise ValueError(
            f"ResNetDiscriminator needs an image size >= 8 divisible by 4 (e.g. 8, 28, 32, 64), got {image_size}."
        )
    sizes = [image_size // 2, image_size // 4]
    while sizes[-1] > 8 and sizes[-1] % 2 == 0:
        sizes.append(sizes[-1] // 2)
    return sizes


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
    """SNGAN's ResNet discriminator (Miyato et al. 2018, Table 4, CIFAR-10): optimized block
    (↓) → block (↓) → block → block → ReLU → sum over space → (projection) head.

    Every block has ``width`` channels. Images larger than 32 px get one more downsampling
    block per doubling, so the two plain blocks always work on ≤ 8×8 features (28 px: 7×7;
    see :func:`downsampling_plan`). ``minibatch_std_group`` > 0 inserts a
    :class:`MinibatchStdDev` layer before the last block (Karras et al. 2018) — StyleGAN's
    discriminator does this; that block then gets a 1×1 shortcut for the extra channel.
    ``aux_classes`` > 0 adds an auxiliary classifier on the same features, :meth:`classify`
    (AC-GAN, Odena et al. 2017). Weights start Glorot-uniform, gain √2 in the residual
    branches and 1 elsewhere, as in the paper's code.
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
        if min(channels, width) < 1 or num_classes < 0 or aux_classes < 0:
            raise ValueError("channels and width must be positive, num_classes and aux_classes >= 0.")
        self.image_size = image_size
        self.channels = channels
        self.num_classes = num_classes
        self.aux_classes = aux_classes
        downsamplings = len(downsampling_plan(image_size))
        extra = 1 if minibatch_std_group > 0 else 0
        self.blocks = nn.ModuleList(
            [
                OptimizedBlock(channels, width, spectral),
                *(
                    DiscriminatorBlock(width, width, downsample=True, spectral=spectral)
                    for _ in range(downsamplings - 1)
                ),
                DiscriminatorBlock(width, width, downsample=False, spectral=spectral),
                DiscriminatorBlock(width + extra, width, downsample=False, spectral=spectral),
            ]
        )
        self.minibatch_std = MinibatchStdDev(minibatch_std_group) if minibatch_std_group > 0 else nn.Identity()
        self.head = ProjectionHead(width, num_classes, spectral=spectral)
        self.classifier = _spectral(nn.Linear(width, aux_classes), spectral, 1.0) if aux_classes > 0 else None

    def features(self, x: Tensor) -> Tensor:
        """Pooled features φ(x), shape (B, width)."""
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {self.channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set its channels/image_size to the data's."
            )
        h = x
        for block in self.blocks[:-1]:
            h = block(h)
        h = self.blocks[-1](self.minibatch_std(h))
        return F.relu(h).sum(dim=(2, 3))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.features(x), labels)

    def classify(self, x: Tensor) -> Tensor:
        """Class logits (B, aux_classes) of the auxiliary classifier."""
        return auxiliary_logits(self.classifier, self.features(x))
