"""Exact resume and crash-safe checkpoints.

A run stopped after a checkpoint and resumed with ``ckpt_path`` must end exactly where an
uninterrupted run ends: generator, discriminator, EMA, optimizer and scheduler states,
step counters, random streams and the order of the data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.checkpoint import AtomicCheckpointIO, CheckpointLoadError, atomic_torch_save, load_checkpoint_file
from gan_lightning.data import Digits8x8DataModule
from gan_lightning.regularizers import GradientPenalty
from tests.conftest import assert_same_state, tiny_gan, tiny_trainer

MAX_STEPS = 10  # 4 batches per epoch: crosses two epoch boundaries


class RecordOrder(pl.Callback):
    """The sum of each real batch, to compare the data order of two runs."""

    def __init__(self) -> None:
        self.sums: list[float] = []

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        self.sums.append(float(batch[0].sum()))


def make_run(folder: Path, ckpt_every: int | None = None) -> tuple[pl.Trainer, Any, Digits8x8DataModule, RecordOrder]:
    torch.set_num_threads(1)  # thread count changes float reduction order: keep it fixed across runs
    pl.seed_everything(0)
    model = tiny_gan(
        regularizers=[GradientPenalty(weight=1.0)],  # draws random interpolation weights
        n_critic=2,
        ema_kimg=0.1,
        generator_scheduler=lambda opt: torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=MAX_STEPS),
    )
    data = Digits8x8DataModule(batch_size=16, val_size=1797 - 64)  # 64 training samples, 4 batches
    order = RecordOrder()
    callbacks: list[pl.Callback] = [order]
    if ckpt_every:
        callbacks.append(
            ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=ckpt_every, save_top_k=-1)
        )
    return tiny_trainer(folder, MAX_STEPS, callbacks, num_sanity_val_steps=1), model, data, order


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    trainer, model, data, order = make_run(folder, ckpt_every=1)
    trainer.fit(model, datamodule=data)
    return {
        "folder": folder,
        "state": model.state_dict(),
        "optimizers": [opt.state_dict() for opt in trainer.optimizers],
        "schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
        "global_step": trainer.global_step,
        "rng": torch.get_rng_state(),
        "order": order.sums,
    }


@pytest.mark.parametrize("resume_step", [5, 4], ids=["mid-epoch", "epoch-end"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted, tmp_path: Path, resume_step: int):
    trainer, model, data, order = make_run(tmp_path)
    trainer.fit(model, datamodule=data, ckpt_path=uninterrupted["folder"] / f"step={resume_step}.ckpt")
    assert trainer.global_step == uninterrupted["global_step"] == MAX_STEPS
    assert order.sums == uninterrupted["order"][resume_step:], "data order differs after resuming"
    assert_same_state(model.state_dict(), uninterrupted["state"], "model")  # G, D, EMA, fixed noise
    assert_same_state([opt.state_dict() for opt in trainer.optimizers], uninterrupted["optimizers"], "optimizers")
    assert_same_state(
        [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs], uninterrupted["schedulers"]
    )
    assert torch.equal(torch.get_rng_state(), uninterrupted["rng"]), "random stream differs after resuming"


def test_checkpoints_load_with_weights_only(uninterrupted):
    checkpoint = torch.load(uninterrupted["folder"] / "step=5.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 5
    assert any("TrainingRandomState" in key for key in checkpoint["callbacks"])


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "last.ckpt"
    atomic_torch_save({"step": 1}, path)
    real_save = torch.save

    def crash_half_way(obj: Any, handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", crash_half_way)
    with pytest.raises(OSError, match="No space left"):
        AtomicCheckpointIO().save_checkpoint({"step": 2}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint_file(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"], "temporary file left behind"


def test_gan_runs_use_atomic_checkpoint_io(make_gan, make_trainer, tiny_data):
    trainer = make_trainer(max_steps=1)
    trainer.fit(make_gan(), datamodule=tiny_data)
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def test_truncated_checkpoint_names_the_file_and_the_alternatives(uninterrupted, tmp_path: Path):
    source = (uninterrupted["folder"] / "step=5.ckpt").read_bytes()
    truncated = tmp_path / "last.ckpt"
    truncated.write_bytes(source[: len(source) // 2])
    (tmp_path / "step=3.ckpt").write_bytes(source)
    with pytest.raises(CheckpointLoadError, match=r"truncated or corrupt.*step=3\.ckpt"):
        load_checkpoint_file(truncated)
    trainer, model, data, _ = make_run(tmp_path)
    with pytest.raises(CheckpointLoadError, match=r"last\.ckpt"):
        trainer.fit(model, datamodule=data, ckpt_path=truncated)


def test_pickled_code_is_refused(tmp_path: Path):
    path = tmp_path / "evil.ckpt"
    torch.save({"payload": RecordOrder()}, path)
    with pytest.raises(CheckpointLoadError, match="weights_only=True"):
        load_checkpoint_file(path)


def _loader(seed: int = 0):
    from torch.utils.data import TensorDataset

    from gan_lightning.data.resumable import EpochSeededRandomSampler, ResumableDataLoader

    dataset = TensorDataset(torch.arange(16))
    return ResumableDataLoader(dataset, batch_size=4, sampler=EpochSeededRandomSampler(dataset, seed=seed))


def _epoch(loader, epoch: int) -> list[list[int]]:
    loader.sampler.set_epoch(epoch)
    return [batch[0].tolist() for batch in loader]


def test_loader_resumes_mid_epoch_and_reshuffles_per_epoch():
    reference = _loader()
    first, second = _epoch(reference, 0), _epoch(reference, 1)
    assert first != second and sorted(i for batch in first for i in batch) == list(range(16))

    interrupted = _loader()
    interrupted.sampler.set_epoch(1)
    iterator = iter(interrupted)
    seen = [next(iterator)[0].tolist() for _ in range(2)]
    state = interrupted.state_dict()
    assert state == {"epoch": 1, "batches_delivered": 2}

    resumed = _loader()
    resumed.load_state_dict(state)
    assert seen + [batch[0].tolist() for batch in resumed] == second


def test_loader_does_not_skip_into_the_next_epoch():
    """An epoch cut short (limit_train_batches) then finished: the next epoch starts at 0."""
    resumed = _loader()
    resumed.load_state_dict({"epoch": 0, "batches_delivered": 3})
    assert _epoch(resumed, 1) == _epoch(_loader(), 1)


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
