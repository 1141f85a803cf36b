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


def test_srresnet_without_batch_norm_is_the_edsr_block_and_starts_as_bicubic() -> None:
    """EDSR's residual blocks (Lim et al. 2017): no BatchNorm, so eval equals train mode and the
    convs carry biases; the untrained residual network is still exactly bicubic interpolation."""
    from gan_lightning.networks.srresnet import upscale_bicubic

    plain = SRResNet(3, scale=4, width=8, num_blocks=2, batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert all(m.bias is not None for m in plain.modules() if isinstance(m, torch.nn.Conv2d))
    low = torch.rand(2, 3, 6, 6) * 2 - 1
    torch.testing.assert_close(plain(low), upscale_bicubic(low, 4).clamp(-1, 1), rtol=0, atol=0)
    with torch.no_grad():
        next(plain.tail[-1].parameters()).normal_()  # a trained last layer: train and eval now agree
    assert torch.equal(plain.train()(low), plain.eval()(low))
    paper = SRResNet(3, scale=4, width=8, num_blocks=2)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in paper.modules()) == 2 * 2 + 1
