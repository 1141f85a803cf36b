"""Preemption through the real command line: a CLI run that receives SIGTERM (or SLURM's
SIGUSR1) writes ``last.ckpt`` at the iteration under way, says so in one line and exits with
status 0; resuming from that file ends bit for bit where the uninterrupted run ends.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.conftest import FIXTURES, REPO_ROOT, assert_same_state, child_environment

MAX_STEPS = 6
PREEMPTED_AT = 3  # 4 batches per epoch: the resumed run finishes epoch 0 and crosses into epoch 1


def fit_command(folder: Path, *extra: str) -> list[str]:
    """tests/fixtures/ddp_tiny.yaml on one process, keeping ``last.ckpt`` in ``folder/checkpoints``."""
    return [
        sys.executable,
        "-m",
        "gan_lightning",
        "fit",
        "--config",
        str(FIXTURES / "ddp_tiny.yaml"),
        "--trainer.devices=1",
        "--trainer.strategy=auto",
        f"--trainer.max_steps={MAX_STEPS}",
        "--trainer.limit_train_batches=4",
        f"--trainer.default_root_dir={folder}",
        "--checkpoint.save_last=true",
        f"--checkpoint.dirpath={folder / 'checkpoints'}",
        *extra,
    ]


def run(command: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=child_environment(), capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def run_and_signal(folder: Path, signum: signal.Signals, *extra: str) -> subprocess.CompletedProcess:
    """Start a run, wait until it holds at iteration PREEMPTED_AT, send ``signum``, let it go on."""
    marker = folder / "at_iteration"
    command = fit_command(
        folder,
        "--trainer.callbacks+=tests.helpers.signals.WaitForSignal",
        f"--trainer.callbacks.step={PREEMPTED_AT}",
        f"--trainer.callbacks.marker={marker}",
        *extra,
    )
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=child_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1][-4000:]
            assert time.monotonic() < deadline, "the run never reached the iteration to preempt"
            time.sleep(0.05)
        process.send_signal(signum)
        marker.unlink()
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def final_state(path: Path) -> dict[str, Any]:
    checkpoint = torch.load(path, weights_only=True)
    return {key: checkpoint[key] for key in ("global_step", "state_dict", "optimizer_states")}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("uninterrupted")
    run(fit_command(folder))
    return final_state(folder / "checkpoints" / "last.ckpt")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "resume"),
    [(signal.SIGTERM, "the file named"), (signal.SIGUSR1, "last")],
    ids=["SIGTERM", "SIGUSR1-requeue-style"],
)
def test_signal_saves_the_current_iteration_and_resuming_equals_the_uninterrupted_run(
    uninterrupted: dict[str, Any], tmp_path: Path, signum: signal.Signals, resume: str
):
    """SIGUSR1 runs as a requeued SLURM job does: the same command twice, with
    ``--ckpt_path=last`` (nothing to resume the first time, last.ckpt the second)."""
    requeue_style = ["--ckpt_path=last"] if resume == "last" else []
    preempted = run_and_signal(tmp_path, signum, *requeue_style)
    assert preempted.returncode == 0, preempted.stderr[-4000:]
    last = tmp_path / "checkpoints" / "last.ckpt"
    notices = [line for line in preempted.stderr.splitlines() if "Preempted" in line]
    assert notices == [
        f"Preempted ({signum.name}) at iteration {PREEMPTED_AT}: saved {last}; resume with --ckpt_path={last}"
    ]
    assert "Traceback" not in preempted.stderr + preempted.stdout
    assert torch.load(last, weights_only=True)["global_step"] == PREEMPTED_AT

    run(fit_command(tmp_path, *(requeue_style or [f"--ckpt_path={last}"])))
    resumed = final_state(last)
    assert resumed["global_step"] == uninterrupted["global_step"] == MAX_STEPS
    assert_same_state(resumed["state_dict"], uninterrupted["state_dict"], "state_dict")
    assert_same_state(resumed["optimizer_states"], uninterrupted["optimizer_states"], "optimizer_states")


def test_a_full_disk_during_a_save_keeps_the_previous_last_checkpoint_and_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The second write of last.ckpt (iteration 2) fails half way, as on a full disk: the run
    stops with one ``error:`` line and last.ckpt still holds iteration 1, loadable."""
    from gan_lightning.cli import main

    real_save, calls = torch.save, []

    def disk_full_on_second_save(obj: Any, handle: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(obj.get("global_step"))
        if len(calls) < 2:
            return real_save(obj, handle, *args, **kwargs)
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full_on_second_save)
    monkeypatch.setattr(sys, "argv", ["gan_lightning"])  # as from a shell: no pytest arguments beside `args`
    command = fit_command(tmp_path, "--checkpoint.every_n_train_steps=1", "--checkpoint.save_top_k=0")
    with pytest.raises(SystemExit) as stopped:
        main(command[3:])
    monkeypatch.setattr(torch, "save", real_save)
    last = tmp_path / "checkpoints" / "last.ckpt"
    message = str(stopped.value.code)
    assert message.startswith(f"error: Could not write the checkpoint {last} ([Errno 28] No space left on device)")
    assert "\n" not in message and calls == [1, 2]
    assert torch.load(last, weights_only=True)["global_step"] == 1
    assert sorted(path.name for path in last.parent.iterdir()) == ["last.ckpt"], "temporary file left behind"
