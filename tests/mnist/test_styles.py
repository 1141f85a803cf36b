"""MNIST styles (the CycleGAN demo's domains): disjoint halves in plain and styled digits, a
style statistic that separates them, and the digit reader's way back from a style."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.mnist import (
    STYLES,
    MNIST5kDataModule,
    MNISTStylesDataModule,
    apply_style,
    in_style,
    readable_digits,
)
from tests.conftest import (
    first_batch,
    in_range,
)


def test_mnist_styles_halves_are_disjoint_and_styled():
    module = MNISTStylesDataModule(style="thick_inverted", batch_size=4, val_size=100)
    batch = first_batch(module)
    assert batch.keys() == {"a", "b", "label_a", "label_b"}
    assert batch["a"].shape == batch["b"].shape == (4, 1, 32, 32) and in_range(batch["a"], batch["b"])
    a, b, val = (set(indices.tolist()) for indices in (module.indices_a, module.indices_b, module.indices_val))
    assert not (a & b) and not (a & val) and not (b & val) and len(a | b | val) == 5000
    digits = MNIST5kDataModule(image_size=32, val_size=0).load()[0]
    domain_b = module.train_set.domain_b.tensors
    assert torch.equal(domain_b["image"], apply_style(digits[module.indices_b], "thick_inverted"))
    assert torch.equal(module.train_set.domain_a.tensors["image"], digits[module.indices_a])
    held_out = module.val_set.tensors
    assert torch.equal(held_out["b"], apply_style(held_out["a"], "thick_inverted"))
    assert torch.equal(held_out["label_a"], held_out["label_b"])


@pytest.mark.parametrize("style", STYLES)
def test_style_statistic_separates_the_domains(style):
    module = MNISTStylesDataModule(style=style, val_size=500)
    module.setup()
    plain, styled = module.train_set.domain_a.tensors["image"], module.train_set.domain_b.tensors["image"]
    accuracy = (in_style(plain, "plain").float().mean() + in_style(styled, style).float().mean()) / 2
    assert accuracy >= 0.99
    assert (~in_style(plain, style)).float().mean() >= 0.99 and (~in_style(styled, "plain")).float().mean() >= 0.99


def test_readable_digits_undoes_inversion_and_thins_thick_strokes():
    digits = MNISTStylesDataModule(image_size=32, val_size=10)
    digits.setup()
    a = digits.val_set.tensors["a"]
    assert torch.equal(readable_digits(apply_style(a, "inverted"), "inverted"), a)
    thinned = readable_digits(apply_style(a, "thick"), "thick")
    assert (thinned > 0).sum() < (apply_style(a, "thick") > 0).sum()
    assert (thinned >= a - 1e-6).all()  # an opening of a dilation keeps everything the digit had
