"""The CIFAR-10 GPU recipes (configs/cifar10/*.yaml) train two iterations on CPU.

The data is a fake CIFAR-10 root in torchvision's layout; the networks are shrunk, the
Inception FID is swapped for the shipped MNIST features (no weights download) and validation
runs once, so the whole code path of each recipe -- data module, networks, objective,
regularizers, augmentation, schedulers, metrics, best-checkpoint -- runs as configured.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_lightning.cli import GANLightningCLI
from tests.conftest import CONFIG_WEIGHTS_LOCK, REPO_ROOT, tiny_run
from tests.helpers.fake_datasets import make_cifar_root
from tests.helpers.weights_lock import check_against_lock

CONFIGS = sorted((REPO_ROOT / "configs" / "cifar10").glob("*.yaml"))

SMALL = {
    "sngan": ["--model.init_args.generator.init_args.width=16", "--model.init_args.discriminator.init_args.width=16"],
    "wgan_gp": ["--model.init_args.generator.init_args.width=16", "--model.init_args.discriminator.init_args.width=16"],
    "stylegan2_diffaugment": [
        "--model.init_args.generator.init_args.latent_dim=16",
        "--model.init_args.generator.init_args.width=16",
        "--model.init_args.generator.init_args.w_dim=16",
        "--model.init_args.discriminator.init_args.width=16",
        "--model.init_args.discriminator.init_args.minibatch_std_group=4",
    ],
}


def test_every_cifar10_recipe_is_shrunk_here():
    assert {path.stem for path in CONFIGS} == set(SMALL)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda path: path.stem)
def test_cifar10_recipe_trains_two_iterations_on_fake_cifar(config: Path, tmp_path, monkeypatch):
    make_cifar_root(tmp_path / "cifar", monkeypatch, per_batch=4)
    cli = GANLightningCLI(
        args=[
            *tiny_run(config, tmp_path / "run"),
            f"--data.init_args.root={tmp_path / 'cifar'}",
            "--data.init_args.num_workers=0",
            "--data.init_args.batch_size=4",
            "--trainer.val_check_interval=2",
            "--model.init_args.metrics.init_args.features=mnist",
            "--model.init_args.metrics.init_args.num_samples=8",
            "--model.init_args.metrics.init_args.batch_size=8",
            *SMALL[config.stem],
        ]
    )
    assert cli.trainer.global_step == 2
    check_against_lock(CONFIG_WEIGHTS_LOCK, f"cifar10/{config.stem}", cli.model)
    assert cli.model.objective is not None and cli.datamodule.sample_shape == (3, 32, 32)
    assert "val/fid" in cli.trainer.callback_metrics  # the recipe's validation ran and logged FID


def test_recipes_keep_the_published_settings():
    """What the published numbers assume: 100k iterations, n_critic 5 and Adam(2e-4, (0, 0.9))
    for the Mimicry rows, DiffAugment's three transforms, Inception FID with local weights."""
    import yaml

    recipes = {path.stem: yaml.safe_load(path.read_text()) for path in CONFIGS}
    for name, recipe in recipes.items():
        model = recipe["model"]["init_args"]
        assert recipe["trainer"]["max_steps"] == 100_000, name
        assert model["metrics"]["init_args"]["features"] == "inception", name
        assert recipe["data"]["init_args"]["download"] is False, name
    for name in ("sngan", "wgan_gp"):
        model = recipes[name]["model"]["init_args"]
        assert model["n_critic"] == 5
        assert model["optimization"]["discriminator"]["optimizer"]["init_args"] == {"lr": 2.0e-4, "betas": [0.0, 0.9]}
        assert model["discriminator"]["init_args"]["spectral"] is (name == "sngan")
    augment = recipes["stylegan2_diffaugment"]["model"]["init_args"]["augment"]["init_args"]
    assert augment["policy"] == ["color", "translation", "cutout"]
