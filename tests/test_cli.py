"""The command line a user walks on day one: configs parse, interpolate, train, and leave
a checkpoint, a sample PNG, the resolved config and an offline W&B run behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from gan_lightning.checkpoint import AtomicCheckpointIO
from gan_lightning.cli import GANLightningCLI
from tests.conftest import TINY_OVERRIDES, WGAN, run_cli
from tests.helpers.wandb_records import config_keys, history_keys


def parse(args: list[str]) -> GANLightningCLI:
    return GANLightningCLI(args=args, run=False)


def test_wgan_config_builds_the_documented_model():
    cli = parse(["--config", WGAN])
    model = cli.model
    assert type(model).__name__ == "GAN" and model.n_critic == 2
    assert type(model.objective).__name__ == "WassersteinLoss"
    assert [type(r).__name__ for r in model.regularizers] == ["GradientPenalty"]
    assert model.generator.image_size == cli.datamodule.image_size == 28
    assert model.sample(2).shape == (2, 1, 28, 28)


def test_interpolation_follows_command_line_overrides():
    """`${data.init_args.image_size}` is resolved after the command line is merged."""
    cli = parse(["--config", WGAN, "--data.init_args.image_size=32"])
    assert cli.model.generator.image_size == 32 and cli.model.discriminator.image_size == 32


def test_unknown_key_is_reported_by_name(capsys):
    with pytest.raises(SystemExit):
        parse(["--config", WGAN, "--model.init_args.n_critc=3"])
    assert "n_critc" in capsys.readouterr().err


def test_config_round_trip(tmp_path: Path):
    cli = parse(["--config", WGAN, "--model.init_args.n_critic=3"])
    dumped = tmp_path / "dumped.yaml"
    dumped.write_text(cli.parser.dump(cli.config, skip_none=False))
    again = parse(["--config", str(dumped)])
    sources = ("config", "__default_config__")  # where the values came from, not the values
    without_sources = lambda config: {k: v for k, v in config.as_dict().items() if k not in sources}  # noqa: E731
    assert without_sources(again.config) == without_sources(cli.config)
    assert again.model.n_critic == 3


@pytest.mark.slow
def test_fit_through_the_cli_leaves_checkpoint_samples_config_and_wandb_run(tmp_path: Path):
    result = run_cli(
        [
            "fit",
            "--config",
            WGAN,
            *TINY_OVERRIDES,
            "--trainer.max_steps=3",
            f"--trainer.default_root_dir={tmp_path / 'out'}",  # the logger's save_dir follows it
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "W&B: logging offline" in result.stdout + result.stderr
    assert not (tmp_path / "runs").exists()

    run_dirs = list((tmp_path / "out" / "gan-lightning").iterdir())
    assert len(run_dirs) == 1
    run = run_dirs[0]
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert checkpoint["global_step"] == 3
    assert any(key.startswith("generator_ema.") for key in checkpoint["state_dict"])
    assert len(checkpoint["optimizer_states"]) == 2
    assert list((run / "samples").glob("step_*.png"))

    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["trainer"]["max_steps"] == 3
    assert saved["model"]["init_args"]["generator"]["init_args"]["image_size"] == 8  # interpolated, resolved

    wandb_files = list((tmp_path / "out").glob("wandb/offline-run-*/run-*.wandb"))
    assert len(wandb_files) == 1
    logged = history_keys(wandb_files[0])
    assert {"train/d_loss", "train/g_loss", "train/D(x)", "train/D(G(z))", "train/grad_norm_d"} <= logged
    assert "samples/_type" in logged  # the sample grid went to W&B as an image
    assert {"model", "data", "trainer"} <= config_keys(wandb_files[0])


@pytest.mark.slow
@pytest.mark.parametrize("command", [["gan-lightning"], ["lightning"], [sys.executable, "-m", "gan_lightning"]])
def test_entry_points_print_help(command):
    executable = Path(sys.executable).parent / command[0] if not command[0].startswith("/") else None
    if executable is not None and not executable.exists():
        pytest.fail(f"console script {command[0]} is not installed next to {sys.executable}")
    argv = [str(executable), *command[1:]] if executable is not None else command
    result = subprocess.run([*argv, "fit", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--model" in result.stdout and "--checkpoint.every_n_train_steps" in result.stdout


@pytest.mark.slow
def test_enable_checkpointing_false_turns_off_the_checkpoint_callbacks(tmp_path: Path):
    """Lightning raises on ``enable_checkpointing=False`` with a ModelCheckpoint present; ours
    are always present, so the flag has to remove them rather than fail."""
    result = run_cli(
        [
            "fit",
            "--config",
            WGAN,
            *TINY_OVERRIDES,
            "--trainer.max_steps=2",
            "--trainer.enable_checkpointing=false",
            "--trainer.logger=false",
            f"--trainer.default_root_dir={tmp_path}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(tmp_path.rglob("*.ckpt"))


def test_the_defaults_choose_atomic_checkpoints_and_the_checkpoint_callbacks_come_after_the_trainers():
    """Chosen by configuration (``defaults.yaml``: ``trainer.plugins``), before any task's setup;
    the always-present checkpoint callbacks follow the trainer's own, as LightningCLI orders them,
    and preemption comes last: it saves at the end of an iteration every other callback has seen."""
    cli = parse(["--config", WGAN, "--trainer.logger=false"])
    assert type(cli.trainer.strategy.checkpoint_io) is AtomicCheckpointIO
    names = [type(callback).__name__ for callback in cli.trainer.callbacks]
    assert names.index("DivergenceGuard") < names.index("SampleGrid") < names.index("RunSummary")
    assert names[-3:] == ["PeriodicCheckpoint", "BestCheckpoint", "Preemption"]
    replaced = parse(["--config", WGAN, "--trainer.logger=false", "--trainer.plugins=null"])
    assert type(replaced.trainer.strategy.checkpoint_io) is not AtomicCheckpointIO  # the task's setup adds it then
