"""W&B never blocks a run: no network means offline, WANDB_MODE=disabled writes nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gan_lightning.loggers import WandbLogger
from gan_lightning.loggers.wandb import resolve_wandb_mode
from tests.conftest import REPO_ROOT

FAKE_KEY = "0" * 40


@pytest.fixture
def black_hole() -> str:
    """A server that accepts TCP connections and never answers, like a captive firewall."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_silent_server_falls_back_to_offline(monkeypatch: pytest.MonkeyPatch, black_hole: str):
    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)
    monkeypatch.setenv("WANDB_BASE_URL", black_hole)
    mode, reason = resolve_wandb_mode(timeout=0.5)
    assert mode == "offline" and "not reachable" in reason


def test_refused_connection_falls_back_to_offline(monkeypatch: pytest.MonkeyPatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("WANDB_API_KEY", FAKE_KEY)
    monkeypatch.setenv("WANDB_BASE_URL", f"http://127.0.0.1:{port}")
    assert resolve_wandb_mode(timeout=0.5)[0] == "offline"


def test_no_api_key_is_offline_with_the_fix(monkeypatch: pytest.MonkeyPatch):
    mode, reason = resolve_wandb_mode()
    assert mode == "offline" and "wandb login" in reason


@pytest.mark.slow
def test_training_with_a_silent_server_finishes(tmp_path: Path, black_hole: str):
    """A whole run (logger start, metrics, images, finish) in a subprocess with a time
    limit: a hang would raise TimeoutExpired instead of blocking the test suite."""
    script = textwrap.dedent(
        f"""
        import torch
        from gan_lightning.loggers import WandbLogger
        from tests.conftest import TinyData, tiny_gan, tiny_trainer
        torch.set_num_threads(1)
        logger = WandbLogger(project="p", save_dir={str(tmp_path)!r})
        trainer = tiny_trainer({str(tmp_path)!r}, logger=logger, max_steps=2, log_every_n_steps=1)
        trainer.fit(tiny_gan(), datamodule=TinyData())
        print("mode:", logger.experiment.settings.mode)
        """
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "WANDB_API_KEY": FAKE_KEY,
        "WANDB_BASE_URL": black_hole,
        "WANDB_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("mode: ")[-1].strip() in ("offline", "dryrun")
    assert list(tmp_path.glob("wandb/offline-run-*/run-*.wandb"))


def test_disabled_mode_writes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_gan, tiny_data):
    import wandb

    from tests.conftest import tiny_trainer

    monkeypatch.setenv("WANDB_MODE", "disabled")
    save_dir = tmp_path / "runs"
    logger = WandbLogger(project="p", save_dir=str(save_dir))
    trainer = tiny_trainer(tmp_path / "root", logger=logger, max_steps=2, log_every_n_steps=1)
    try:
        trainer.fit(make_gan(), datamodule=tiny_data)
        logger.experiment.finish()
    finally:
        wandb.teardown()  # wandb's process-wide settings keep mode=disabled; later tests' runs would be disabled too
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "wandb" in str(p).lower()]
    assert written == []
    assert not (save_dir / "wandb").exists()
