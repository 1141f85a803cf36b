"""Every config in configs/ parses, builds, and trains two iterations with tiny overrides.

The overrides shrink only the run (steps, batch, validation, logging), never the model,
so a config that names a wrong class or a mismatched shape fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from gan_lightning.cli import GANLightningCLI
from tests.conftest import REPO_ROOT
from tests.weights_lock import check_against_lock

LOCK_FILE = REPO_ROOT / "tests" / "data" / "config_weights_lock.json"


def is_fit_config(path: Path) -> bool:
    """A model config for ``lightning fit`` (data and the rest come from the shared
    defaults), not a sweep or a composable fragment."""
    content = yaml.safe_load(path.read_text())
    return isinstance(content, dict) and "model" in content


#: Recipes that need the user's files (photos, VGG19 weights): tests/test_sr_photos.py trains them on temporary ones.
NEEDS_USER_FILES = {"srgan_vgg"}
CONFIGS = sorted(
    path for path in (REPO_ROOT / "configs").glob("*.yaml") if is_fit_config(path) and path.stem not in NEEDS_USER_FILES
)


def tiny_run(config: Path, root: Path) -> list[str]:
    return [
        "fit",
        "--config",
        str(config),
        "--trainer.max_steps=2",
        "--trainer.accelerator=cpu",
        "--trainer.logger=false",
        "--trainer.limit_val_batches=1",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={root}",
        "--data.init_args.batch_size=8",
        "--checkpoint.every_n_train_steps=null",
    ]


def test_every_model_of_the_family_has_a_config():
    names = {path.stem for path in CONFIGS}
    family = {
        "acgan",
        "gan",
        "gan_2d",
        "pacgan_2d",
        "dcgan",
        "wgan",
        "wgan_clip",
        "lsgan",
        "sngan",
        "r1",
        "cgan",
        "stylegan",
    }
    assert family <= names, f"missing configs: {sorted(family - names)}"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_config_trains_two_iterations(config: Path, tmp_path: Path):
    cli = GANLightningCLI(args=tiny_run(config, tmp_path))
    assert cli.trainer.global_step == 2
    check_against_lock(LOCK_FILE, config.stem, cli.model)  # refactors keep every recipe's weights
    samples = cli.model.sample_fixed()  # what the sample grids draw, for every task
    assert torch.isfinite(samples).all()
    assert list((tmp_path / "samples").glob("step_*.png")), "no sample grid written"


def parse(*args: str) -> GANLightningCLI:
    return GANLightningCLI(args=list(args), run=False)


def test_training_aids_are_command_line_switches():
    """DiffAugment, instance noise, minibatch stddev, TTUR and EMA need no new config file."""
    family = REPO_ROOT / "configs"
    cli = parse(
        "--config",
        str(family / "dcgan.yaml"),
        "--model.init_args.augment=gan_lightning.augment.DiffAugment",
        "--model.init_args.augment.init_args.policy=[color,cutout]",
        "--model.init_args.optimization.ema_kimg=2.5",
        "--model.init_args.optimization.discriminator.optimizer=torch.optim.Adam",
        "--model.init_args.optimization.discriminator.optimizer.init_args.lr=4e-4",
    )
    assert type(cli.model.augment).__name__ == "DiffAugment" and cli.model.augment.policy == ["color", "cutout"]
    assert cli.model.ema_kimg == 2.5
    generator_opt, discriminator_opt = cli.model.configure_optimizers()
    assert generator_opt.param_groups[0]["lr"] == 2e-4 and discriminator_opt.param_groups[0]["lr"] == 4e-4
    cli = parse(
        "--config",
        str(family / "gan_2d.yaml"),
        "--model.init_args.augment=gan_lightning.augment.InstanceNoise",
        "--model.init_args.augment.init_args.anneal_steps=500",
    )
    assert cli.model.augment.anneal_steps == 500
    cli = parse(
        "--config", str(family / "sngan.yaml"), "--model.init_args.discriminator.init_args.minibatch_std_group=4"
    )
    assert type(cli.model.discriminator.minibatch_std).__name__ == "MinibatchStdDev"
