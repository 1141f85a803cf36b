"""benchmarks/ema_length.py: the extra averages follow the task's own (same half-life and
ramp-up: the same weights), each is written as a checkpoint that carries it as the sampling
generator, and the table has one row per half-life."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from benchmarks import ema_length
from benchmarks.harness import bare_trainer
from gan_lightning.data import GaussianMixture2DDataModule
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.tasks import GAN
from gan_lightning.training import Optimization


def test_an_extra_average_with_the_tasks_settings_is_the_tasks_average(tmp_path):
    torch.manual_seed(0)
    task = GAN(
        MLPGenerator(data_shape=[2], latent_dim=4, hidden_dims=[16], output="linear"),
        MLPDiscriminator(data_shape=[2], hidden_dims=[16]),
        n_critic=2,
        optimization=Optimization(ema_kimg=0.5, ema_rampup=0.05),
    )
    data = GaussianMixture2DDataModule(num_samples=2_000, batch_size=50, val_size=100)
    extra = ema_length.ExtraAverages([0.5], rampup=0.05)
    longer = ema_length.ExtraAverages([5.0], rampup=None)  # no ramp-up: 5 kimg from the start
    checkpoints = ModelCheckpoint(dirpath=tmp_path, save_last=True)
    bare_trainer(30, [extra, longer, checkpoints], enable_checkpointing=True).fit(task, datamodule=data)

    own = task.generator_ema.state_dict()
    same = torch.load(tmp_path / "ema_0.5kimg.ckpt", weights_only=False)["state_dict"]
    longer = torch.load(tmp_path / "ema_5kimg.ckpt", weights_only=False)["state_dict"]
    for name, value in own.items():
        assert torch.allclose(same[f"generator_ema.{name}"], value, atol=1e-6), name
    assert any(not torch.allclose(longer[f"generator_ema.{k}"], v, atol=1e-4) for k, v in own.items())
    for key in same:  # only the sampling generator differs between the written checkpoints
        if not key.startswith("generator_ema."):
            assert torch.equal(same[key], longer[key]), key
    with pytest.raises(ValueError, match="half_lives_kimg"):
        ema_length.ExtraAverages([0.0])


def test_one_row_per_half_life_with_the_configs_own_first():
    def row(name, fid, precision):
        return {
            "half_life_kimg": name,
            "fid": {"value": fid, "floor": 0.5},
            "precision": {"value": precision, "floor": 0.9},
            "recall": {"value": 0.9, "floor": 0.89},
            "modes_covered": {"value": 10, "floor": 10},
            "class_kl": {"value": 0.01, "floor": 0.02},
        }

    results = {"seed": 1, "rampup": 0.5, "samples": 2000, "rows": [row("config", 1.0, 0.64), row("50", 0.9, 0.66)]}
    table = ema_length.report(results)
    assert "Seed 1; extra averages' ramp-up 0.5; 2,000 samples" in table
    lines = table.splitlines()
    assert lines[-2] == "| the config's (`last.ckpt`) | 1.000 | 2.00 | 0.640 | 0.900 | 10 | 0.010 |"
    assert lines[-1] == "| 50 kimg | 0.900 | 1.80 | 0.660 | 0.900 | 10 | 0.010 |"
