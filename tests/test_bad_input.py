"""Bad input on the command line stops with one `error:` line that says what is wrong and what
to do, without a traceback (`GAN_LIGHTNING_TRACEBACK=1` shows it).

(The messages themselves are tested where they are raised: commands/test_config_errors.py,
checkpoint/test_compatibility.py, test_resume.py for truncated and pickled checkpoints,
data/ for missing or corrupt data.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import FIXTURES, REPO_ROOT

TINY = str(FIXTURES / "ddp_tiny.yaml")


@pytest.mark.slow
def test_command_line_prints_the_paragraph_without_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "gan_lightning", "fit", "--config", TINY, "--model.init_args.n_critic=0"],
        cwd=REPO_ROOT,
        env={**os.environ, "WANDB_MODE": "disabled"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "error: The configuration was refused: n_critic must be >= 1" in result.stderr
    assert "Traceback" not in result.stderr


def run_command(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python -m gan_lightning ARGS`` as a user runs it: W&B off, the worktree importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "WANDB_MODE": "disabled"}
    return subprocess.run(
        [sys.executable, "-m", "gan_lightning", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """No traceback, exit status 1, and exactly one stderr line ``error: ...`` naming the problem."""
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.slow
def test_fit_with_a_checkpoint_of_another_architecture_prints_one_line(wide_checkpoint, tmp_path: Path):
    """Raised inside ``trainer.fit`` (the module's ``on_load_checkpoint``) and re-raised by Lightning."""
    result = run_command(
        ["fit", "--config", TINY, "--trainer.devices=1", "--trainer.strategy=auto", f"--ckpt_path={wide_checkpoint}"],
        tmp_path,
    )
    assert_one_line_error(result, "error: The checkpoint was written by a different architecture", "config.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("command", ["evaluate", "fit"])
def test_a_truncated_checkpoint_prints_one_line(wide_checkpoint, tmp_path: Path, command: str):
    """``evaluate CKPT`` and ``fit --ckpt_path CKPT`` (LightningCLI reads the file's
    hyper-parameters before the Trainer exists)."""
    truncated = tmp_path / "run" / "checkpoints" / "step=3.ckpt"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(wide_checkpoint.read_bytes()[:2000])
    args = (
        ["evaluate", str(truncated)] if command == "evaluate" else ["fit", "--config", TINY, f"--ckpt_path={truncated}"]
    )
    assert_one_line_error(run_command(args, tmp_path), f"error: {truncated} (2000 bytes) is truncated or corrupt")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("--trainer.max_steps=-5", "`max_steps` must be a non-negative integer or -1"),
        ("--trainer.accelerator=gpu", "No supported gpu backend found"),
    ],
    ids=["negative-max-steps", "gpu-without-one"],
)
def test_a_trainer_setting_lightning_refuses_prints_one_line(tmp_path: Path, setting: str, expected: str):
    """Lightning's MisconfigurationException, raised while the Trainer is built (it is no
    ValueError): before, a traceback through jsonargparse and Lightning's loops."""
    if setting.endswith("gpu") and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = run_command(["fit", "--config", TINY, setting], tmp_path)
    assert_one_line_error(result, "error: The configuration was refused: ", expected, "Fix that value")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sample", "missing.ckpt", "--out", "out"], "error: Checkpoint not found: missing.ckpt"),
        (["sample", "missing.ckpt", "--out", "out", "--steps=1"], "error: --steps must be at least 2"),
    ],
    ids=["missing-checkpoint", "bad-steps"],
)
def test_sample_errors_print_one_line(tmp_path: Path, args, expected):
    assert_one_line_error(run_command(args, tmp_path), expected)


@pytest.mark.slow
def test_fit_with_a_missing_data_folder_prints_one_line(tmp_path: Path):
    missing = tmp_path / "no-such-folder"
    result = run_command(
        [
            "fit",
            "--config",
            TINY,
            "--trainer.devices=1",
            "--trainer.strategy=auto",
            "--data=gan_lightning.data.ImageFolderDataModule",
            f"--data.init_args.root={missing}",
            "--data.init_args.image_size=8",
            "--data.init_args.channels=1",
        ],
        tmp_path,
    )
    assert_one_line_error(result, "error: Image folder", str(missing))


def test_traceback_on_request(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """``GAN_LIGHTNING_TRACEBACK=1`` lets the error through (for debugging the package itself)."""
    from gan_lightning.cli import main
    from gan_lightning.errors import CommandLineError

    args = ["sample", str(tmp_path / "x.ckpt"), "--out", str(tmp_path), "--steps=1"]
    with pytest.raises(SystemExit, match=r"^error: --steps must be at least 2"):
        main(args)
    monkeypatch.setenv("GAN_LIGHTNING_TRACEBACK", "1")
    with pytest.raises(CommandLineError, match="--steps must be at least 2"):
        main(args)
