"""Networks as their papers define them: DCGAN's init under spectral norm (Radford et al.
2016, Sec. 4) and SNGAN's ResNet discriminator (Miyato et al. 2018, Table 4)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_lightning.networks import DCGANDiscriminator, ResNetDiscriminator, dcgan_init
from gan_lightning.networks.resnet import DiscriminatorBlock, OptimizedBlock


def weighted_layers(network: nn.Module) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]


def raw_weight(layer: nn.Module) -> torch.Tensor:
    """The stored weight, read without the package's helper (so the test holds on its own)."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


def largest_singular_value(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.flatten(start_dim=1), ord=2).item()


# ---------------------------------------------------------------- DCGAN init under spectral norm
def test_dcgan_init_reaches_the_stored_weights_of_spectrally_normalised_layers():
    torch.manual_seed(0)
    critic = DCGANDiscriminator(image_size=32, channels=3, base_width=8, norm="spectral")
    layers = weighted_layers(critic)
    assert layers and all(parametrize.is_parametrized(layer, "weight") for layer in layers)
    stored = torch.cat([raw_weight(layer).flatten() for layer in layers])
    assert stored.std().item() == pytest.approx(0.02, rel=0.05)  # PyTorch's default init: ≈ 0.05 here
    for layer in layers:
        if raw_weight(layer).numel() >= 1000:
            assert raw_weight(layer).std().item() == pytest.approx(0.02, rel=0.15)


def test_spectral_norm_estimate_is_refreshed_after_the_init():
    """σ is estimated by power iteration on the weight it wrapped; after re-initialising, the
    normalised weight must still have spectral norm ≈ 1, not the old weight's estimate."""
    torch.manual_seed(0)
    layer = nn.utils.parametrizations.spectral_norm(nn.Conv2d(8, 16, 3))
    dcgan_init(layer)
    layer.eval()  # no power iteration on access: the estimate made by the init is what counts
    assert largest_singular_value(layer.weight.detach()) == pytest.approx(1.0, rel=0.02)


def test_dcgan_init_on_plain_layers_is_unchanged():
    torch.manual_seed(0)
    layer, norm = nn.Linear(400, 300), nn.BatchNorm2d(500)
    layer.apply(dcgan_init)
    norm.apply(dcgan_init)
    assert layer.weight.std().item() == pytest.approx(0.02, rel=0.05) and not layer.bias.any()
    assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.01) and not norm.bias.any()


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
