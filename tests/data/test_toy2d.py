"""2D Gaussian mixtures (the PacGAN protocol, Lin et al. 2018): the ring and grid layouts, and
each point drawn near its labelled mode, seeded."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data import GaussianMixture2DDataModule, Grid2DDataModule, Ring2DDataModule
from gan_lightning.data.toy2d import grid_modes, ring_modes


def test_mixtures_match_the_protocol():
    ring = ring_modes()
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=1), torch.ones(8))
    assert torch.allclose(ring[2], torch.tensor([0.0, 1.0]), atol=1e-6)  # (cos 2π·2/8, sin 2π·2/8)
    grid = grid_modes()
    assert grid.shape == (25, 2)
    assert set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0} == set(grid[:, 1].tolist())
    assert Ring2DDataModule().std == 0.01 and Grid2DDataModule().std == 0.05


@pytest.mark.parametrize("layout", ["ring", "grid"])
def test_datamodule_draws_each_point_near_its_labelled_mode(layout):
    data = GaussianMixture2DDataModule(layout, num_samples=4_000, batch_size=100, val_size=1_000, seed=3)
    data.setup()
    points, labels = data.train_set.tensors
    assert points.shape == (3_000, 2) and labels.max() < len(data.modes)
    offsets = points - data.modes[labels]
    assert abs(offsets.std().item() - data.std) < 0.1 * data.std
    assert torch.bincount(labels, minlength=len(data.modes)).min() > 0  # every mode present
    again = GaussianMixture2DDataModule(layout, num_samples=4_000, batch_size=100, val_size=1_000, seed=3)
    again.setup()
    assert torch.equal(again.train_set.tensors[0], points)  # seeded: the same data every run


def test_unknown_layout_is_rejected():
    with pytest.raises(ValueError, match="layout"):
        GaussianMixture2DDataModule("spiral")
