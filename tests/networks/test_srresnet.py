"""SRGAN's networks (Ledig et al. 2017): SRResNet upscales by its sub-pixel stages, the
discriminator gives one logit per image."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import (
    SRGANDiscriminator,
    SRResNet,
)


@pytest.mark.parametrize(("scale", "channels", "low"), [(2, 1, 7), (4, 1, 7), (4, 3, 8), (8, 1, 4)])
def test_srresnet_upscales_by_its_factor(scale: int, channels: int, low: int) -> None:
    generator = SRResNet(channels, scale=scale, width=4, num_blocks=2)
    out = generator(torch.randn(2, channels, low, low) * 3)
    assert out.shape == (2, channels, low * scale, low * scale)
    assert out.abs().max() <= 1


def test_srresnet_rejects_scales_without_subpixel_stages() -> None:
    with pytest.raises(ValueError, match="scale must be one of"):
        SRResNet(1, scale=3)


@pytest.mark.parametrize(("size", "pool"), [(28, 2), (32, 2), (96, 6), (160, 6)])
def test_srgan_discriminator_gives_one_logit_per_image(size: int, pool: int) -> None:
    discriminator = SRGANDiscriminator(3, size, base_width=2, dense_width=8)
    assert discriminator(torch.randn(2, 3, size, size)).shape == (2,)
    assert discriminator.head[0].in_features == 16 * pool * pool
    with pytest.raises(ValueError, match="expects high-resolution images"):
        discriminator(torch.randn(2, 3, size // 2, size // 2))
