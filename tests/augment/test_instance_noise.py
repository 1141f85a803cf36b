"""Instance noise: Gaussian noise whose std anneals linearly to zero with the GAN module's iteration."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.augment import InstanceNoise
from tests.conftest import TinyData, tiny_gan


def test_instance_noise_anneals_linearly_to_zero():
    noise = InstanceNoise(std=0.2, anneal_steps=10)
    x = torch.zeros(20_000, 2)
    noise.iteration = 0
    assert noise(x).std().item() == pytest.approx(0.2, rel=0.05)
    noise.iteration = 5
    assert noise.current_std == pytest.approx(0.1)
    assert noise(x).std().item() == pytest.approx(0.1, rel=0.05)
    noise.iteration = 12
    assert torch.equal(noise(x), x)
    assert InstanceNoise(std=0.2).eval()(x).abs().sum() == 0  # no noise at evaluation


def test_gan_module_tells_scheduled_augmentations_the_iteration(make_trainer):
    noise = InstanceNoise(std=0.1, anneal_steps=100)
    model = tiny_gan(augment=noise)
    make_trainer(max_steps=3).fit(model, TinyData())
    assert noise.iteration == 2  # the last generator update's index
    assert noise.current_std == pytest.approx(0.1 * 0.98)
