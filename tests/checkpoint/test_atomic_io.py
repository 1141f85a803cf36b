"""Crash-safe checkpoints: a save interrupted half way keeps the previous file, and GAN runs
write through AtomicCheckpointIO."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from gan_lightning.checkpoint import AtomicCheckpointIO, CheckpointWriteError, atomic_torch_save, load_checkpoint_file


def test_crash_while_saving_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "last.ckpt"
    atomic_torch_save({"step": 1}, path)
    real_save = torch.save

    def crash_half_way(obj: Any, handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write(b"PK\x03\x04 partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", crash_half_way)
    with pytest.raises(CheckpointWriteError, match=r"last\.ckpt \(No space left on device\); the previous last\.ckpt"):
        AtomicCheckpointIO().save_checkpoint({"step": 2}, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert load_checkpoint_file(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"], "temporary file left behind"


def test_gan_runs_use_atomic_checkpoint_io(make_gan, make_trainer, tiny_data):
    trainer = make_trainer(max_steps=1)
    trainer.fit(make_gan(), datamodule=tiny_data)
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)
