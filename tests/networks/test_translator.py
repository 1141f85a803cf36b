"""CycleGAN's ResNet translator (Zhu et al. 2017, after Johnson et al. 2016): sizes kept, the
paper's blocks and parameter count, sizes it cannot restore refused."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import (
    ResNetTranslator,
)
from gan_lightning.networks.translator import ResidualBlock


@pytest.mark.parametrize(("shape", "c_out"), [((1, 28, 28), 1), ((3, 12, 20), 3), ((1, 32, 32), 3)])
def test_resnet_translator_preserves_the_image_size(shape: tuple[int, int, int], c_out: int) -> None:
    translator = ResNetTranslator(shape[0], c_out, base_width=4, num_blocks=2)
    out = translator(torch.randn(2, *shape) * 3)
    assert out.shape == (2, c_out, *shape[1:])
    assert out.abs().max() <= 1


@pytest.mark.parametrize(("size", "blocks"), [(None, 9), (32, 6), (128, 6), (256, 9), (512, 9)])
def test_resnet_translator_has_the_papers_blocks_for_the_image_size(size: int | None, blocks: int) -> None:
    """Zhu et al. 2017, appendix 7.2: 6 residual blocks for 128-px images, 9 for 256 px and up."""
    translator = ResNetTranslator(1, 1, base_width=2, image_size=size)
    assert translator.num_blocks == blocks == sum(isinstance(m, ResidualBlock) for m in translator.modules())
    explicit = ResNetTranslator(1, 1, base_width=2, num_blocks=4, image_size=256)
    assert explicit.num_blocks == 4 == sum(isinstance(m, ResidualBlock) for m in explicit.modules())


def test_resnet_translator_has_the_papers_size() -> None:
    """junyanz/pytorch-CycleGAN-and-pix2pix prints 11.378 M parameters for resnet_9blocks with
    instance norm: the same layers, less the conv biases we drop before a norm (a bias there is
    cancelled by the norm's mean), and no norm parameters."""
    with torch.device("meta"):
        translator = ResNetTranslator(3, 3, num_blocks=9)
    dropped_biases = 64 + 128 + 256 + 2 * 9 * 256 + 128 + 64
    assert sum(p.numel() for p in translator.parameters()) + dropped_biases == 11_378_179


def test_resnet_translator_rejects_sizes_it_cannot_restore() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        ResNetTranslator(1, 1, base_width=4, num_blocks=1)(torch.randn(1, 1, 30, 30))
