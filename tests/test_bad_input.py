"""Bad input stops with one readable paragraph that says what is wrong and what to do.

(Downloads without network, corrupt image folders and bad data-module values are covered
in test_datasets.py / test_data.py; truncated and pickled checkpoints in test_resume.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_lightning.checkpoint import ArchitectureMismatchError
from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.config_errors import ConfigurationError, explain_config_error
from gan_lightning.tasks import GAN
from tests.conftest import FIXTURES, REPO_ROOT, tiny_gan

WGAN = str(REPO_ROOT / "configs" / "wgan.yaml")
TINY = str(FIXTURES / "ddp_tiny.yaml")


def parse(args: list[str]) -> GANLightningCLI:
    return GANLightningCLI(args=["--config", WGAN, *args], run=False)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--model.init_args.n_critc=3"],
            "Unknown option 'n_critc' for gan_lightning.tasks.GAN (did you mean 'n_critic'?)",
        ),
        (["--trainer.max_stepz=3"], "Unknown option 'trainer.max_stepz' (did you mean 'trainer.max_steps'?)"),
        (["--data.init_args.batch_sise=3"], "(did you mean 'batch_size'?)"),
    ],
    ids=["model-key", "trainer-key", "data-key"],
)
def test_mistyped_key_is_named_with_a_suggestion(capsys, args, expected):
    with pytest.raises(SystemExit):
        parse(args)
    error = capsys.readouterr().err
    assert expected in error


def test_mistyped_key_in_a_config_file(capsys, tmp_path: Path):
    override = tmp_path / "override.yaml"
    override.write_text("trainer:\n  max_stepz: 3\n")
    with pytest.raises(SystemExit):
        parse(["--config", str(override)])
    assert "did you mean 'trainer.max_steps'?" in capsys.readouterr().err


def test_other_errors_pass_through_unchanged():
    assert explain_config_error("something else went wrong") == "something else went wrong"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--data.init_args.batch_size=-4"], "batch_size must be a positive integer, got -4."),
        (["--model.init_args.n_critic=0"], "n_critic must be >= 1"),
        (["--data.init_args.image_size=30"], "DCGAN cannot make 30px images"),
    ],
    ids=["negative-batch-size", "n_critic-0", "impossible-image-size"],
)
def test_impossible_values_give_one_paragraph(args, reason):
    with pytest.raises(ConfigurationError) as error:
        parse(args)
    message = str(error.value)
    assert reason in message and "Namespace(" not in message and "\n" not in message


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


@pytest.fixture
def wide_checkpoint(make_trainer, tiny_data, tmp_path: Path) -> Path:
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    model = tiny_gan(
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
    )
    trainer = make_trainer(max_steps=1)
    trainer.fit(model, datamodule=tiny_data)
    path = tmp_path / "wide.ckpt"
    trainer.save_checkpoint(path)
    return path


def test_checkpoint_of_another_architecture_when_resuming(wide_checkpoint, make_trainer, tiny_data):
    with pytest.raises(ArchitectureMismatchError, match=r"different architecture.*differ in shape.*discriminator\."):
        make_trainer(max_steps=2).fit(tiny_gan(), datamodule=tiny_data, ckpt_path=wide_checkpoint)


def test_checkpoint_of_another_architecture_when_loading(wide_checkpoint):
    with pytest.raises(ArchitectureMismatchError, match=r"config\.yaml"):
        GAN.load_from_checkpoint(
            wide_checkpoint, generator=tiny_gan().generator, discriminator=tiny_gan().discriminator, weights_only=True
        )


def test_matching_checkpoint_loads(wide_checkpoint):
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    model = GAN.load_from_checkpoint(
        wide_checkpoint,
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        weights_only=True,
    )
    assert torch.isfinite(model.sample(2)).all()


def test_non_strict_loading_still_allows_missing_tensors(wide_checkpoint):
    """`strict=False` is a deliberate partial load (here: a model without the EMA copy)."""
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.training import Optimization

    model = GAN.load_from_checkpoint(
        wide_checkpoint,
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        optimization=Optimization(ema_kimg=None),
        strict=False,
        weights_only=True,
    )
    assert model.generator_ema is None


def test_resuming_with_missing_tensors_names_them(wide_checkpoint, make_trainer, tiny_data):
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    model = tiny_gan(
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        ema_kimg=None,
    )
    with pytest.raises(ArchitectureMismatchError, match=r"in it are not in the model \(generator_ema\."):
        make_trainer(max_steps=2).fit(model, datamodule=tiny_data, ckpt_path=wide_checkpoint)


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
