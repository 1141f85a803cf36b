"""Exact resume: a run stopped after a checkpoint and resumed with ``ckpt_path`` ends exactly where
an uninterrupted run ends (generator, discriminator, EMA, optimizer and scheduler states, step
counters, random streams and the order of the data), and a checkpoint that cannot be trusted
(truncated, or holding pickled code) is refused with the file named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.checkpoint import CheckpointLoadError, load_checkpoint_file
from gan_lightning.data import Digits8x8DataModule
from gan_lightning.regularizers import GradientPenalty
from tests.conftest import assert_same_end_of_training, assert_same_state, end_of_training, tiny_gan, tiny_trainer

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
        **end_of_training(trainer, model),  # G, D, EMA, fixed noise; optimizers; the random stream
        "schedulers": [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs],
        "global_step": trainer.global_step,
        "order": order.sums,
    }


@pytest.mark.parametrize("resume_step", [5, 4], ids=["mid-epoch", "epoch-end"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted, tmp_path: Path, resume_step: int):
    trainer, model, data, order = make_run(tmp_path)
    trainer.fit(model, datamodule=data, ckpt_path=uninterrupted["folder"] / f"step={resume_step}.ckpt")
    assert trainer.global_step == uninterrupted["global_step"] == MAX_STEPS
    assert order.sums == uninterrupted["order"][resume_step:], "data order differs after resuming"
    assert_same_end_of_training(trainer, model, uninterrupted)
    assert_same_state(
        [config.scheduler.state_dict() for config in trainer.lr_scheduler_configs], uninterrupted["schedulers"]
    )


def test_checkpoints_load_with_weights_only(uninterrupted):
    checkpoint = torch.load(uninterrupted["folder"] / "step=5.ckpt", weights_only=True)
    assert checkpoint["global_step"] == 5
    assert any("TrainingRandomState" in key for key in checkpoint["callbacks"])


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


@pytest.mark.parametrize("content", [b"# My run\nnot weights\n", b"\x89PNG\r\n\x1a\n"], ids=["text", "png"])
def test_a_file_that_is_no_checkpoint_is_named_so(tmp_path: Path, content: bytes):
    """Not "pickled code, unsafe" (torch's message for any file it cannot unpickle)."""
    path = tmp_path / "README.md"
    path.write_bytes(content)
    with pytest.raises(CheckpointLoadError, match=r"README\.md is not a checkpoint.*last\.ckpt"):
        load_checkpoint_file(path)


def test_an_empty_checkpoint_reads_as_truncated(tmp_path: Path):
    """What a crash leaves is still reported as cut short, not as some other file."""
    path = tmp_path / "last.ckpt"
    path.write_bytes(b"")
    with pytest.raises(CheckpointLoadError, match=r"\(0 bytes\) is truncated or corrupt"):
        load_checkpoint_file(path)


def test_pickled_code_is_refused(tmp_path: Path):
    path = tmp_path / "evil.ckpt"
    torch.save({"payload": RecordOrder()}, path)
    with pytest.raises(CheckpointLoadError, match="weights_only=True"):
        load_checkpoint_file(path)
