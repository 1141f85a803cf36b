"""DiffAugment (Zhao et al. 2020): differentiable, per-sample, off in eval, and the generator
learns through it inside the GAN module."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.augment import DiffAugment
from gan_lightning.augment.diffaugment import cutout, translate
from tests.conftest import TinyData, tiny_gan


def test_diffaugment_is_differentiable_and_keeps_the_shape():
    x = torch.rand(4, 3, 8, 8, requires_grad=True)
    out = DiffAugment()(x)
    assert out.shape == x.shape
    out.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_each_sample_draws_its_own_transform():
    x = torch.rand(1, 1, 8, 8).expand(16, 1, 8, 8).contiguous()
    out = DiffAugment(["translation", "cutout"])(x)
    assert len({tuple(image.flatten().tolist()) for image in out}) > 1


def test_translation_moves_pixels_without_inventing_any():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    shifted = translate(x, ratio=0.125)  # at most 2 px: the pixel always stays inside
    assert torch.equal(shifted.sum(dim=(1, 2, 3)), torch.ones(64))
    rows, cols = shifted[:, 0].nonzero()[:, 1], shifted[:, 0].nonzero()[:, 2]
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2
    assert (rows != 8).any() and (cols != 8).any()


def test_the_module_shifts_by_at_most_its_translation_ratio():
    torch.manual_seed(0)
    x = torch.zeros(256, 1, 32, 32)
    x[:, :, 16, 16] = 1.0
    for ratio, largest in ((0.0625, 2), (0.125, 4)):
        rows, cols = DiffAugment(["translation"], translation_ratio=ratio)(x)[:, 0].nonzero()[:, 1:].unbind(1)
        assert max((rows - 16).abs().max(), (cols - 16).abs().max()) == largest  # 256 draws reach the edge
    with pytest.raises(ValueError, match="translation_ratio"):
        DiffAugment(translation_ratio=0.5)


def test_cutout_zeroes_at_most_one_square_of_half_the_side():
    torch.manual_seed(0)
    out = cutout(torch.ones(32, 2, 8, 8), ratio=0.5)
    zeros = (out == 0).sum(dim=(2, 3))
    assert zeros.max() <= 16 and zeros.min() > 0
    assert torch.equal(zeros[:, 0], zeros[:, 1])  # the same square in every channel


def test_diffaugment_is_identity_in_eval_and_rejects_flat_data():
    augment = DiffAugment().eval()
    x = torch.rand(2, 1, 8, 8)
    assert torch.equal(augment(x), x)
    with pytest.raises(ValueError, match="InstanceNoise"):
        DiffAugment()(torch.rand(4, 2))
    with pytest.raises(ValueError, match="Unknown DiffAugment"):
        DiffAugment(["flip"])


def test_gan_trains_with_diffaugment_and_the_generator_learns_through_it(make_trainer):
    model = tiny_gan(augment=DiffAugment())
    before = [p.detach().clone() for p in model.generator.parameters()]
    make_trainer(max_steps=2).fit(model, TinyData())
    assert any(not torch.equal(b, p) for b, p in zip(before, model.generator.parameters(), strict=True))
