"""Minibatch standard deviation (Karras et al. 2018): the group's std appended as a feature map."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import (
    MinibatchStdDev,
)


def test_minibatch_std_appends_the_group_standard_deviation():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 2.0], [7.0, 6.0]])  # groups of 2: rows (0, 2) and (1, 3)
    out = MinibatchStdDev(group_size=2, eps=0.0)(x)
    assert out.shape == (4, 3)
    # group {0, 2}: stds (2, 0) → mean 1; group {1, 3}: stds (2, 0) → mean 1
    assert torch.allclose(out[:, 2], torch.ones(4))
    assert torch.equal(out[:, :2], x)


def test_minibatch_std_is_zero_for_identical_samples_and_positive_for_varied_ones():
    layer = MinibatchStdDev(group_size=4, eps=0.0)
    same = layer(torch.ones(8, 3, 4, 4))
    varied = layer(torch.randn(8, 3, 4, 4))
    assert same.shape == (8, 4, 4, 4)
    assert same[:, 3].abs().max() == 0 and varied[:, 3].min() > 0.5
    with pytest.raises(ValueError, match="divisible"):
        layer(torch.randn(6, 3, 4, 4))
