"""The ResNet networks: SNGAN's discriminator as the paper defines it (Miyato et al. 2018,
Table 4: blocks, shortcuts, sizes, parameter count, reference init), the pair's shapes, and
class conditioning through the generator and the projection discriminator."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lightning.networks import (
    ConditionalBatchNorm2d,
    ResNetDiscriminator,
    ResNetGenerator,
)
from gan_lightning.networks.resnet import DiscriminatorBlock, OptimizedBlock
from tests.networks.conftest import largest_singular_value, raw_weight


# ---------------------------------------------------------------- SNGAN discriminator
def test_sngan_discriminator_has_the_papers_four_blocks_and_shortcuts():
    """Table 4 (CIFAR-10): ResBlock down (optimized), ResBlock down, ResBlock, ResBlock; the
    shortcut is a 1×1 conv only where the block downsamples, the identity elsewhere."""
    blocks = list(ResNetDiscriminator(image_size=32, channels=3, width=16).blocks)
    assert [type(block) for block in blocks] == [OptimizedBlock, *[DiscriminatorBlock] * 3]
    assert [block.downsample for block in blocks[1:]] == [True, False, False]
    assert isinstance(blocks[0].shortcut, nn.Conv2d) and isinstance(blocks[1].shortcut, nn.Conv2d)
    assert blocks[2].shortcut is None and blocks[3].shortcut is None


def test_a_plain_block_adds_its_input_unchanged():
    block = DiscriminatorBlock(4, 4, downsample=False, spectral=False)
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(block(x), x)


def test_the_optimized_block_pools_before_its_shortcut_conv():
    block = OptimizedBlock(3, 4, spectral=False)
    with torch.no_grad():
        block.conv2.weight.zero_()
        block.conv2.bias.zero_()
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(block(x), block.shortcut(nn.functional.avg_pool2d(x, 2)))


def test_minibatch_std_gives_the_last_block_a_learnable_shortcut():
    blocks = ResNetDiscriminator(image_size=32, channels=1, width=8, spectral=False, minibatch_std_group=2).blocks
    assert blocks[2].shortcut is None and isinstance(blocks[3].shortcut, nn.Conv2d)
    assert blocks[3].conv1.in_channels == 9


@pytest.mark.parametrize(
    ("size", "feature_size", "num_blocks"), [(8, 2, 4), (16, 4, 4), (28, 7, 4), (32, 8, 4), (48, 6, 5), (64, 8, 5)]
)
def test_sngan_discriminator_sizes(size: int, feature_size: int, num_blocks: int):
    discriminator = ResNetDiscriminator(image_size=size, channels=3, width=8, num_classes=3, aux_classes=3)
    seen: list[tuple[int, ...]] = []
    discriminator.blocks[-1].register_forward_hook(lambda module, args, out: seen.append(tuple(out.shape)))
    images, labels = torch.randn(4, 3, size, size), torch.tensor([0, 1, 2, 0])
    assert discriminator(images, labels).shape == (4,)
    assert discriminator.classify(images).shape == (4, 3)
    assert seen[0] == (4, 8, feature_size, feature_size) and len(discriminator.blocks) == num_blocks


@pytest.mark.parametrize("size", [4, 30, 34])
def test_sngan_discriminator_rejects_sizes_it_cannot_halve_twice(size: int):
    with pytest.raises(ValueError, match="divisible by 4"):
        ResNetDiscriminator(image_size=size, channels=1, width=8)


def test_sngan_discriminator_parameter_count_matches_the_paper_architecture():
    """CIFAR-10 D with 128 channels, counted by hand from Table 4: optimized block (two 3×3
    convs, 1×1 shortcut), down block (two 3×3 convs, 1×1 shortcut), two plain blocks (two 3×3
    convs each), linear head — biases included; ≈ 1.05 M."""
    c, w = 3, 128
    conv3 = lambda fan_in: 9 * fan_in * w + w  # noqa: E731
    conv1 = lambda fan_in: fan_in * w + w  # noqa: E731
    expected = (conv3(c) + conv3(w) + conv1(c)) + (2 * conv3(w) + conv1(w)) + 2 * (2 * conv3(w)) + (w + 1)
    discriminator = ResNetDiscriminator(image_size=32, channels=c, width=w)
    assert sum(p.numel() for p in discriminator.parameters()) == expected == 1_053_825


def test_sngan_discriminator_starts_from_the_reference_init():
    """Glorot-uniform, gain √2 in the residual branches and 1 in the shortcuts, written to
    the stored weights under spectral norm (and σ re-estimated for them)."""
    torch.manual_seed(0)
    width = 64
    discriminator = ResNetDiscriminator(image_size=32, channels=3, width=width).eval()
    residual = raw_weight(discriminator.blocks[2].conv1)
    assert residual.std().item() == pytest.approx(math.sqrt(2) * math.sqrt(2 / (18 * width)), rel=0.05)
    shortcut = raw_weight(discriminator.blocks[1].shortcut)
    assert shortcut.std().item() == pytest.approx(math.sqrt(2 / (2 * width)), rel=0.05)
    assert largest_singular_value(discriminator.blocks[2].conv1.weight.detach()) == pytest.approx(1.0, rel=0.02)


# ---------------------------------------------------------------- shapes and class conditioning
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_resnet_pair_shapes(size, channels):
    generator = ResNetGenerator(latent_dim=8, image_size=size, channels=channels, width=8)
    discriminator = ResNetDiscriminator(image_size=size, channels=channels, width=8)
    images = generator(torch.randn(4, 8))
    assert images.shape == (4, channels, size, size) and images.abs().max() <= 1
    assert discriminator(images).shape == (4,)
    spectral = [m for m in discriminator.modules() if hasattr(m, "parametrizations")]
    assert spectral and all("weight" in m.parametrizations for m in spectral)


def test_resnet_discriminator_explains_a_shape_mismatch():
    with pytest.raises(ValueError, match="channels/image_size"):
        ResNetDiscriminator(image_size=28, channels=1, width=8)(torch.randn(2, 3, 28, 28))


def test_conditional_resnet_uses_labels_in_generator_and_projection_discriminator():
    generator = ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=3)
    discriminator = ResNetDiscriminator(image_size=8, channels=1, width=8, num_classes=3)
    with torch.no_grad():
        for norm in (m for m in generator.modules() if isinstance(m, ConditionalBatchNorm2d)):
            norm.scale.weight.normal_(1.0, 0.5)
    z = torch.randn(4, 8)
    generator.eval()
    zeros, twos = torch.zeros(4, dtype=torch.long), torch.full((4,), 2)
    assert not torch.allclose(generator(z, zeros), generator(z, twos))
    images = torch.randn(4, 1, 8, 8)
    assert not torch.allclose(discriminator(images, zeros), discriminator(images, twos))
    with pytest.raises(ValueError, match="labels"):
        discriminator(images)
