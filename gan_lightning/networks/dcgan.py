"""DCGAN (Radford et al. 2016), sized from the image: 8 to 64+ px, 1 or 3 channels."""

from __future__ import annotations

from torch import Tensor, nn

from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.layers import Normalization, maybe_spectral, normalization_layer


def upsampling_plan(image_size: int) -> tuple[int, int]:
    """``(start_size, n_doublings)`` with ``start_size * 2**n == image_size`` and
    ``start_size`` in 4..7, so 28 px starts at 7×7 and 32/64 px at 4×4."""
    size, doublings = image_size, 0
    while size > 7 and size % 2 == 0:
        size, doublings = size // 2, doublings + 1
    if not 4 <= size <= 7 or doublings == 0:
        raise ValueError(
            f"DCGAN cannot make {image_size}px images: the size must be 4..7 times a power of "
            "two, at least 8 (e.g. 28, 32, 64). Resize the data or choose another size."
        )
    return size, doublings


class DCGANGenerator(nn.Module):
    """z → (1×1) → ConvT to start_size² → [ConvT stride 2, BN, ReLU]* → Tanh."""

    def __init__(
        self,
        latent_dim: int = 100,
        image_size: int = 28,
        channels: int = 1,
        base_width: int = 64,
        norm: Normalization = "batch",
    ) -> None:
        super().__init__()
        if latent_dim < 1 or channels < 1 or base_width < 1:
            raise ValueError("latent_dim, channels and base_width must be positive integers.")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        start, doublings = upsampling_plan(image_size)
        width = base_width * 2 ** (doublings - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width, start, 1, 0, bias=False),
            normalization_layer(norm, width),
            nn.ReLU(inplace=True),
        ]
        for _ in range(doublings - 1):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                normalization_layer(norm, width // 2),
                nn.ReLU(inplace=True),
            ]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], self.latent_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """[Conv stride 2, norm, LeakyReLU(0.2)]* → Conv to one score per image.

    ``norm="layer"`` (or ``"none"``) for WGAN-GP critics, ``"batch"`` for DCGAN,
    ``"spectral"`` for SNGAN-style training.
    """

    def __init__(
        self,
        image_size: int = 28,
        channels: int = 1,
        base_width: int = 64,
        norm: Normalization = "batch",
    ) -> None:
        super().__init__()
        self.image_size = image_size
        self.channels = channels
        start, doublings = upsampling_plan(image_size)
        width = base_width
        layers: list[nn.Module] = [
            maybe_spectral(nn.Conv2d(channels, width, 4, 2, 1), norm),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        for _ in range(doublings - 1):
            layers += [
                maybe_spectral(nn.Conv2d(width, width * 2, 4, 2, 1, bias=norm in ("none", "spectral")), norm),
                normalization_layer(norm, width * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            width *= 2
        layers.append(maybe_spectral(nn.Conv2d(width, 1, start, 1, 0), norm))
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1:] != (self.channels, self.image_size, self.image_size):
            raise ValueError(
                f"{type(self).__name__} expects images of shape (B, {self.channels}, {self.image_size}, "
                f"{self.image_size}) but got {tuple(x.shape)}: set its channels/image_size to the data's."
            )
        return self.net(x).flatten()
