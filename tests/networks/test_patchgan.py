"""PatchGAN (Isola et al. 2017): the receptive field of one logit, layers chosen from the image
size, the paper's 70-px patches, and the conditional discriminator's channels."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.networks import (
    PatchDiscriminator,
    patch_receptive_field,
)
from gan_lightning.networks.patchgan import choose_num_layers


@pytest.mark.parametrize(("num_layers", "field"), [(1, 16), (2, 34), (3, 70)])
def test_patch_receptive_field_matches_the_gradient_of_one_logit(num_layers: int, field: int) -> None:
    """The input pixels one interior output logit depends on span exactly the receptive field."""
    torch.manual_seed(0)
    discriminator = PatchDiscriminator(1, base_width=4, num_layers=num_layers).eval()
    size = 8 * 2**num_layers + field
    x = torch.randn(1, 1, size, size, requires_grad=True)
    logits = discriminator(x)
    logits[0, 0, logits.shape[-2] // 2, logits.shape[-1] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    cols = x.grad[0, 0].abs().sum(0).nonzero()
    assert rows.max() - rows.min() + 1 == field == cols.max() - cols.min() + 1
    assert patch_receptive_field(num_layers) == field


@pytest.mark.parametrize(
    ("size", "layers", "out"),
    [(256, 3, 30), (32, 1, 14), (28, 1, 12), (64, 2, 14), (128, 3, 14), (512, 3, 62), (8, 1, 2)],
)
def test_patch_discriminator_chooses_layers_from_the_image_size(size: int, layers: int, out: int) -> None:
    discriminator = PatchDiscriminator(2, base_width=2, image_size=size)
    assert discriminator.num_layers == choose_num_layers(size) == layers
    assert discriminator(torch.randn(3, 2, size, size)).shape == (3, 1, out, out)


def receptive_field_of(network: nn.Module) -> int:
    """Walk back from one output pixel through every conv: a field r becomes (r − 1)·stride + kernel."""
    field = 1
    for conv in reversed([m for m in network.modules() if isinstance(m, nn.Conv2d)]):
        field = (field - 1) * conv.stride[0] + conv.kernel_size[0]
    return field


@pytest.mark.parametrize(("size", "field"), [(16, 16), (32, 16), (64, 34), (128, 70), (256, 70), (512, 70)])
def test_patch_discriminator_has_the_papers_70px_field_from_128px_up(size: int, field: int) -> None:
    """CycleGAN trains the 70×70 PatchGAN on 128-px images, pix2pix on 256 (reference: n_layers=3)."""
    discriminator = PatchDiscriminator(3, base_width=2, image_size=size, norm="instance")
    assert receptive_field_of(discriminator) == field == discriminator.receptive_field


def test_patch_discriminator_has_the_papers_size_for_70px_patches() -> None:
    """junyanz/pytorch-CycleGAN-and-pix2pix prints 2.769 M parameters for pix2pix's basic D (6 channels)."""
    with torch.device("meta"):
        discriminator = PatchDiscriminator(6, num_layers=3)
    assert round(sum(p.numel() for p in discriminator.parameters()) / 1e6, 3) == 2.769


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_conditional_patch_discriminator_takes_source_and_image_channels(norm: str) -> None:
    source, image = torch.randn(2, 1, 16, 16), torch.randn(2, 3, 16, 16)
    discriminator = PatchDiscriminator(4, base_width=4, image_size=16, norm=norm, spectral=True)
    assert discriminator(torch.cat([source, image], dim=1)).shape == (2, 1, 6, 6)
    with pytest.raises(ValueError, match="in_channels = source \\+ image channels"):
        discriminator(image)


def test_patch_discriminator_rejects_too_small_images_and_missing_sizes() -> None:
    with pytest.raises(ValueError, match="at least 24 px"):
        PatchDiscriminator(1, base_width=2, num_layers=3)(torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match="needs num_layers or image_size"):
        PatchDiscriminator(1)
    with pytest.raises(ValueError, match="at least 8 px"):
        PatchDiscriminator(1, image_size=6)
