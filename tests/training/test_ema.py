"""The generator's moving average (Karras et al. 2019): the update rule, and a half-life in
images whatever the batch size, with the ramp-up early in training."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from gan_lightning.training.ema import ema_beta, update_ema


def test_ema_update_rule():
    model, average = nn.Linear(3, 3), nn.Linear(3, 3)
    expected = 0.25 * average.weight.detach() + 0.75 * model.weight.detach()
    update_ema(average, model, beta=0.25)
    assert torch.allclose(average.weight, expected)


def test_ema_moves_every_tensor_as_a_per_tensor_lerp_would_to_the_bit():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    average = copy.deepcopy(model).requires_grad_(False)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter))
    model.train()(torch.randn(8, 3))  # moves the batch-norm statistics and its counter
    expected = [a.lerp(c, 1.0 - 0.9993) for a, c in zip(average.parameters(), model.parameters(), strict=True)]
    update_ema(average, model, beta=0.9993)
    assert all(torch.equal(a, e) for a, e in zip(average.parameters(), expected, strict=True))
    assert all(torch.equal(a, c) for a, c in zip(average.buffers(), model.buffers(), strict=True))  # copied
    assert average[1].num_batches_tracked.item() == 1


def half_life_steps(beta: float) -> float:
    """Updates after which an average with decay ``beta`` has forgotten half of its past."""
    return math.log(0.5) / math.log(beta)


def test_ema_half_life_is_in_images_whatever_the_batch_size():
    # 10 kimg half-life: 10,000 images halve an update's weight at batch 32, 64 or 4 GPUs × 64.
    for batch in (32, 64, 256):
        beta = ema_beta(images_seen=10**7, images_per_step=batch, ema_kimg=10.0)
        assert half_life_steps(beta) * batch == pytest.approx(10_000, rel=1e-4)
    # the ramp-up caps the half-life at ema_rampup × images seen early in training ...
    young = ema_beta(images_seen=6_400, images_per_step=64, ema_kimg=10.0, ema_rampup=0.05)
    assert half_life_steps(young) * 64 == pytest.approx(320, rel=1e-4)
    # ... and no longer once ema_kimg is the smaller of the two
    assert ema_beta(10**7, 64, 10.0, ema_rampup=0.05) == ema_beta(10**7, 64, 10.0)
