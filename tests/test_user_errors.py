"""A user's mistake prints one line, whatever the exception's class; a bug keeps its traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gan_lightning.batch import batch_size_of
from gan_lightning.errors import DataSetupError, is_user_error, one_line
from tests.conftest import REPO_ROOT


def raised(function, *args):
    try:
        function(*args)
    except Exception as error:
        return error
    raise AssertionError("nothing was raised")


def test_checks_raised_by_the_package_are_user_errors_and_library_failures_are_not():
    assert is_user_error(raised(batch_size_of, {"x": 1}))  # ValueError raised by gan_lightning itself
    assert is_user_error(DataSetupError("MNIST5kDataModule.setup failed: ..."))
    assert not is_user_error(raised(int, "not a number"))  # raised inside Python/a library: a bug to report

    def our_bug():
        raise AssertionError("an invariant broke")

    assert not is_user_error(raised(our_bug))


def test_an_os_error_about_a_named_path_is_a_user_error_and_names_the_path(tmp_path: Path):
    """Opened by torch, pathlib or Lightning, not by us: still the user's path (``--out``,
    ``save_dir``), so one line that names it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    error = raised((blocker / "out").mkdir)
    assert is_user_error(error)
    assert one_line(error) == (
        f"{blocker / 'out'}: {error.strerror}. Check that path (its folder exists, you can write there, the disk has room)."
    )
    assert not is_user_error(OSError("no path in it"))  # nothing the user can point at: a bug


def run_cli(*args: str, cwd: Path, bare: bool = True) -> subprocess.CompletedProcess:
    """``python -m gan_lightning ARGS`` with W&B off and no traceback switch; ``bare``: no
    logger and the run folder in ``cwd`` (else the config's logger, whose folder ARGS may set)."""
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "HOME": str(cwd)}
    env.pop("GAN_LIGHTNING_TRACEBACK", None)
    command = [sys.executable, "-m", "gan_lightning", *args]
    if bare:
        command += ["--trainer.logger=false", f"--trainer.default_root_dir={cwd}"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_a_value_error_while_setting_up_the_data_is_one_line(tmp_path: Path):
    """The data module's own ValueError (not a project error class) during set-up."""
    result = run_cli(
        "fit", "--config", str(REPO_ROOT / "configs" / "dcgan.yaml"), "--data.init_args.val_size=100000",
        "--trainer.max_steps=1", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: MNIST5kDataModule.setup failed:") and "val_size=100000" in last


@pytest.mark.slow
def test_a_check_the_package_raises_during_training_is_one_line(tmp_path: Path):
    """A generator that makes 28-px samples for 8-px data: the GAN task's own ValueError, mid-fit."""
    result = run_cli(
        "fit", "--config", str(REPO_ROOT / "configs" / "dcgan.yaml"), "--data=gan_lightning.data.Digits8x8DataModule",
        "--model.init_args.generator.init_args.image_size=28", "--model.init_args.discriminator.init_args.image_size=8",
        "--trainer.max_steps=1", "--trainer.limit_val_batches=0", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("error: The generator makes samples of shape")


@pytest.mark.slow
def test_a_run_folder_that_cannot_be_created_is_one_line(tmp_path: Path):
    """``save_dir`` under a file: Lightning's logger fails in pathlib (FileExistsError or
    NotADirectoryError), before any step."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli(
        "fit", "--config", str(REPO_ROOT / "configs" / "dcgan.yaml"), "--trainer.max_steps=1",
        f"--trainer.logger.init_args.save_dir={blocker / 'runs'}", cwd=tmp_path, bare=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {blocker}") and "Check that path" in last
