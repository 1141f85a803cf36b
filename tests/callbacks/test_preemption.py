"""Preemption in one process: a signal saves the iteration under way and stops fit with
Lightning's SIGTERMException (exit status 0); SLURM jobs are requeued through scontrol.
The real-signal CLI runs and their exact resume are in tests/test_preemption.py."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.fabric.plugins.environments import LightningEnvironment, SLURMEnvironment
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from gan_lightning.callbacks import Preemption
from gan_lightning.callbacks.preemption import FALLBACK_NAME, requeue_slurm_job, requeues_on


class SignalSelf(pl.Callback):
    """Sends ``signum`` to this process during iteration ``step`` (in its training batch)."""

    def __init__(self, step: int, signum: signal.Signals) -> None:
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if trainer.global_step == self.step - 1:
            os.kill(os.getpid(), self.signum)


def preempted_fit(make_gan, make_trainer, tiny_data, *callbacks: pl.Callback) -> pl.Trainer:
    trainer = make_trainer(
        max_steps=6, callbacks=[*callbacks, SignalSelf(2, signal.SIGUSR1)], enable_checkpointing=True
    )
    with pytest.raises(SIGTERMException) as stopped:
        trainer.fit(make_gan(), datamodule=tiny_data)
    assert stopped.value.code is None, "SystemExit(None): exit status 0"
    return trainer


def test_signal_saves_last_checkpoint_at_that_iteration_and_stops(make_gan, make_trainer, tiny_data, tmp_path: Path):
    periodic = ModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True, every_n_train_steps=5)
    trainer = preempted_fit(make_gan, make_trainer, tiny_data, Preemption(), periodic)
    assert trainer.global_step == 2
    assert torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 2
    assert not (tmp_path / FALLBACK_NAME).exists()


def test_without_a_last_checkpoint_it_writes_preempted_ckpt(make_gan, make_trainer, tiny_data, tmp_path: Path):
    before = signal.getsignal(signal.SIGUSR1)
    preempted_fit(make_gan, make_trainer, tiny_data, Preemption())
    assert torch.load(tmp_path / FALLBACK_NAME, weights_only=True)["global_step"] == 2
    assert signal.getsignal(signal.SIGUSR1) == before, "the handlers of before fit are back"


def test_only_the_signals_named_are_handled(make_gan, make_trainer, tiny_data):
    """With SIGUSR1 left to its previous handler (here one that only counts), fit runs to the end."""
    seen: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: seen.append(signum))
    try:
        trainer = make_trainer(
            max_steps=3,
            callbacks=[Preemption(signals=["SIGTERM"]), SignalSelf(2, signal.SIGUSR1)],
            enable_checkpointing=True,
        )
        trainer.fit(make_gan(), datamodule=tiny_data)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert trainer.global_step == 3 and seen == [signal.SIGUSR1]


@pytest.fixture
def fake_scontrol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An ``scontrol`` on PATH that writes its arguments to a file (exit 1 for job id 'bad')."""
    calls = tmp_path / "scontrol_calls"
    script = tmp_path / "bin" / "scontrol"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$2" != bad ] || {{ echo "Invalid job id" >&2; exit 1; }}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_requeue_names_the_job_or_the_array_task(fake_scontrol: Path, monkeypatch: pytest.MonkeyPatch):
    assert not requeue_slurm_job(), "not a SLURM job: nothing to requeue"
    monkeypatch.setenv("SLURM_JOB_ID", "1234")
    assert requeue_slurm_job()
    monkeypatch.setenv("SLURM_ARRAY_JOB_ID", "77")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "3")
    assert requeue_slurm_job()
    assert fake_scontrol.read_text().splitlines() == ["requeue 1234", "requeue 77_3"]


def test_a_failed_requeue_warns_with_scontrols_message(fake_scontrol: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLURM_JOB_ID", "bad")
    with pytest.warns(UserWarning, match="Could not requeue SLURM job bad: Invalid job id"):
        assert not requeue_slurm_job()


def test_requeue_follows_lightnings_slurm_settings(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SLURM_NTASKS", "1")
    monkeypatch.setenv("SLURM_JOB_NAME", "train")

    def trainer(environment: Any) -> Any:
        return SimpleNamespace(strategy=SimpleNamespace(cluster_environment=environment))

    assert requeues_on(trainer(SLURMEnvironment()), signal.SIGUSR1)
    assert not requeues_on(trainer(SLURMEnvironment()), signal.SIGTERM)
    assert not requeues_on(trainer(SLURMEnvironment(auto_requeue=False)), signal.SIGUSR1)
    assert requeues_on(trainer(SLURMEnvironment(requeue_signal=signal.SIGHUP)), signal.SIGHUP)
    assert not requeues_on(trainer(LightningEnvironment()), signal.SIGUSR1)
    assert requeues_on(SimpleNamespace(strategy=object()), signal.SIGUSR1), "one device under SLURM"
    monkeypatch.delenv("SLURM_NTASKS")
    assert not requeues_on(SimpleNamespace(strategy=object()), signal.SIGUSR1)


def test_sigterm_reaches_the_callback_and_not_lightnings_handler(make_gan, make_trainer, tiny_data, tmp_path: Path):
    """Lightning installs its SIGTERM handler before ``on_train_start`` (``Trainer._run``) and
    that handler runs collectives inside the signal handler under DDP: ours must replace it."""
    trainer = make_trainer(
        max_steps=6, callbacks=[Preemption(), SignalSelf(2, signal.SIGTERM)], enable_checkpointing=True
    )
    with pytest.raises(SIGTERMException):
        trainer.fit(make_gan(), datamodule=tiny_data)
    assert trainer.global_step == 2
    assert not trainer.received_sigterm, "Lightning's handler saw the signal"
    assert torch.load(tmp_path / FALLBACK_NAME, weights_only=True)["global_step"] == 2
