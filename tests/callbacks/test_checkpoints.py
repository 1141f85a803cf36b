"""The checkpoint callbacks: the best checkpoint by a logged metric (configs/wgan.yaml keeps the
best by FID), periodic and last checkpoints when no metric is logged, and a last checkpoint that
holds the final state however fit ends."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch

from gan_lightning.cli import GANLightningCLI
from tests.conftest import TINY_WGAN_WITH_METRICS, WGAN


def test_fit_logs_fid_and_keeps_the_best_checkpoint_by_fid(wgan_run: Path) -> None:
    names = sorted(path.name for path in (wgan_run / "checkpoints").iterdir())
    assert "last.ckpt" in names
    assert any(name.startswith("best_fid_") for name in names), names
    rows = list(csv.DictReader((wgan_run / "metrics.csv").open()))
    fids = [float(row["val/fid"]) for row in rows if row.get("val/fid")]
    floors = [float(row["val/fid_floor"]) for row in rows if row.get("val/fid_floor")]
    assert len(fids) == 2 and len(floors) == 1  # every validation; the floor once
    assert any(row.get("val/modes_covered") for row in rows) and any(row.get("val/class_kl") for row in rows)
    state = torch.load(wgan_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    (checkpointing,) = [value for key, value in state["callbacks"].items() if key.startswith("BestCheckpoint")]
    assert checkpointing["monitor"] == "val/fid"
    assert float(checkpointing["best_model_score"]) == pytest.approx(min(fids), rel=1e-5)
    assert Path(checkpointing["best_model_path"]).name.startswith("best_fid_")


def test_metrics_off_still_writes_periodic_and_last_checkpoints(tmp_path: Path) -> None:
    """wgan.yaml keeps the best by val/fid; with the metrics switched off the run must not
    die at the first validation, and a preempted job must find periodic checkpoints."""
    without_metrics = [arg for arg in TINY_WGAN_WITH_METRICS if not arg.startswith("--model.init_args.metrics")]
    with pytest.warns(UserWarning, match="does not log"):
        GANLightningCLI(
            args=[
                "fit",
                "--config",
                WGAN,
                *without_metrics,
                "--model.init_args.metrics=null",
                "--checkpoint.every_n_train_steps=2",
                "--checkpoint.save_top_k=-1",
                "--trainer.max_steps=4",
                "--trainer.logger=false",
                f"--trainer.default_root_dir={tmp_path}",
            ]
        )
    names = sorted(path.name for path in (tmp_path / "checkpoints").iterdir())
    assert names == ["last.ckpt", "step_0000002.ckpt", "step_0000004.ckpt"]


class _StopAt(pl.Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def test_last_checkpoint_holds_the_final_state_when_a_run_stops_between_saves(tmp_path, make_gan, tiny_data):
    """max_time or early stopping between two periodic saves must not leave last.ckpt behind."""
    from gan_lightning.callbacks import PeriodicCheckpoint

    checkpoint = PeriodicCheckpoint(dirpath=tmp_path, every_n_train_steps=2, save_last=True)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=50,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[checkpoint, _StopAt(3)],
        default_root_dir=str(tmp_path),
    )
    trainer.fit(make_gan(), datamodule=tiny_data)
    assert trainer.global_step == 3
    state = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    assert state["global_step"] == 3
