"""Every config in configs/ parses, builds, and trains two iterations with tiny overrides, with
weights equal to the recorded lock; the trainer and data configs compose with a model config.

The overrides shrink only the run (steps, batch, validation, logging), never the model,
so a config that names a wrong class or a mismatched shape fails here.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from gan_lightning.callbacks.checkpoints import BestCheckpoint
from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.strategies import GANDDPStrategy
from tests.conftest import (
    CONFIG_WEIGHTS_LOCK,
    REPO_ROOT,
    in_range,
    tiny_run,
)
from tests.helpers.fake_datasets import (
    make_celeba_root,
    make_cifar_root,
    make_mnist_root,
    make_side_by_side,
    make_unpaired,
    noise_image,
    write_images,
)
from tests.helpers.weights_lock import check_against_lock


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
    check_against_lock(CONFIG_WEIGHTS_LOCK, config.stem, cli.model)  # refactors keep every recipe's weights
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


# ---------------------------------------------------------------- trainer and data configs compose
def test_ddp_config_composes_with_an_experiment():
    cli = GANLightningCLI(
        args=[
            "--config",
            str(REPO_ROOT / "configs" / "wgan.yaml"),
            "--config",
            str(REPO_ROOT / "configs" / "trainer" / "ddp.yaml"),
            "--trainer.accelerator=cpu",
            "--trainer.devices=2",
        ],
        run=False,
    )
    assert type(cli.trainer.strategy) is GANDDPStrategy
    assert cli.trainer.num_devices == 2 and cli.trainer.max_steps == 10000  # wgan.yaml's, not ddp.yaml's


@pytest.mark.parametrize(("config", "precision"), [("bf16.yaml", "bf16-mixed"), ("fp16.yaml", "16-mixed")])
def test_precision_configs_compose_with_an_experiment(config, precision):
    from gan_lightning.cli import GANLightningCLI
    from tests.conftest import REPO_ROOT

    cli = GANLightningCLI(
        args=[
            "--config",
            str(REPO_ROOT / "configs/wgan.yaml"),
            "--config",
            str(REPO_ROOT / "configs/trainer" / config),
        ],
        run=False,
    )
    assert cli.config.trainer.precision == precision  # (on CPU Lightning turns 16-mixed into bf16-mixed)


def cli_args(data_config: str, root: Path) -> list[str]:
    args = ["--config", str(REPO_ROOT / "configs/wgan.yaml"), "--config", str(REPO_ROOT / "configs/data" / data_config)]
    args += ["--trainer.logger=false", "--data.init_args.batch_size=2"]
    if data_config not in ("mnist5k.yaml", "digits8x8.yaml"):
        args.append(f"--data.init_args.root={root}")
    return args


def _cli_with(data_config: str, root: Path) -> GANLightningCLI:
    return GANLightningCLI(args=cli_args(data_config, root), run=False)


# Image-to-image data (dict batches) feeds the translation tasks, not wgan, and (image, caption) data
# feeds text-to-image: test_data_configs_build_their_module and the captions test below.
IMAGE_TO_IMAGE_DATA_CONFIGS = {"pix2pix_folder.yaml", "cyclegan_folder.yaml", "sr_folder.yaml", "captions.yaml"}


@pytest.mark.parametrize(
    "data_config",
    sorted(
        path.name
        for path in (REPO_ROOT / "configs/data").glob("*.yaml")
        if path.name not in IMAGE_TO_IMAGE_DATA_CONFIGS
    ),
)
def test_every_data_config_composes_with_wgan_and_feeds_its_networks(tmp_path, monkeypatch, data_config):
    """`--config configs/wgan.yaml --config configs/data/X.yaml`: the networks follow the
    data's image_size and channels, and a real batch goes through D and matches G's output."""
    monkeypatch.setattr("sys.argv", ["lightning"])
    if data_config == "mnist.yaml":
        make_mnist_root(tmp_path)
    elif data_config == "fashion_mnist.yaml":
        make_mnist_root(tmp_path, "FashionMNIST")
    elif data_config == "cifar10.yaml":
        make_cifar_root(tmp_path, monkeypatch)
    elif data_config == "celeba.yaml":
        make_celeba_root(tmp_path, monkeypatch)
    elif data_config == "image_folder.yaml":
        for i in range(4):
            Image.new("RGB", (70, 80), (i, 0, 0)).save(tmp_path / f"{i}.png")
    cli = _cli_with(data_config, tmp_path)
    data, model = cli.datamodule, cli.model
    if data_config == "image_folder.yaml":
        data.val_size = 0
    data.prepare_data()
    data.setup("fit")
    images, labels = next(iter(data.train_dataloader()))
    assert images.shape[1:] == (data.channels, data.image_size, data.image_size)
    assert model.discriminator(images).shape == (2,)
    assert model.sample(2).shape == images.shape
    assert labels.shape == (2,)


def test_wgan_with_cifar10_config_trains_a_step(tmp_path, monkeypatch):
    """The documented composition trains: `--config configs/wgan.yaml --config configs/data/cifar10.yaml`
    (3-channel 32-px networks, validation with the config's metrics), on a fake CIFAR root."""
    monkeypatch.setattr("sys.argv", ["lightning"])
    root = tmp_path / "data"
    make_cifar_root(root, monkeypatch, per_batch=4)
    overrides = [
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=1",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.val_check_interval=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        "--model.init_args.n_critic=1",
        "--model.init_args.metrics.init_args.num_samples=8",
        "--data.init_args.val_size=4",
    ]
    cli = GANLightningCLI(args=[*cli_args("cifar10.yaml", root), *overrides], run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    assert cli.trainer.global_step == 1
    assert cli.model.sample(2).shape == (2, 3, 32, 32)
    assert "val/fid" in cli.trainer.callback_metrics


def test_cli_reports_missing_data_in_one_line(tmp_path, monkeypatch):
    """`lightning fit` with no data: one `error: ...` line naming the fix, not a traceback."""

    monkeypatch.setattr("sys.argv", ["lightning"])
    args = ["fit", *cli_args("cifar10.yaml", tmp_path / "nowhere"), "--trainer.max_steps=1"]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    message = str(exit_info.value.code)
    assert message.startswith("error: CIFAR-10 not found under root=") and "download: true" in message
    assert "\n" not in message


@pytest.mark.parametrize("config", ["pix2pix_folder.yaml", "cyclegan_folder.yaml", "sr_folder.yaml"])
def test_data_configs_build_their_module(tmp_path, config):
    section = yaml.safe_load((REPO_ROOT / "configs" / "data" / config).read_text())["data"]
    module_name, class_name = section["class_path"].rsplit(".", 1)
    if config == "pix2pix_folder.yaml":
        make_side_by_side(tmp_path, {"train": 2, "val": 1})
    elif config == "cyclegan_folder.yaml":
        make_unpaired(tmp_path, {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1}, size=300)
    else:
        for i in range(3):
            noise_image(i, (100, 100)).save(tmp_path / f"{i}.png")
    module = getattr(importlib.import_module(module_name), class_name)(
        **{**section["init_args"], "root": tmp_path, "batch_size": 1}
    )
    module.setup()
    batch = next(iter(module.train_dataloader()))
    assert all(in_range(image) for image in batch.values())


def test_the_captions_data_config_trains_text2image_on_a_jsonl_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`--config configs/text2image.yaml --config configs/data/captions.yaml`: the user's path."""
    paths = write_images(tmp_path / "images", 24)
    lines = [{"image": f"images/{p.name}", "caption": f"a square of colour {i % 3}"} for i, p in enumerate(paths)]
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    monkeypatch.setattr("sys.argv", ["lightning"])
    args = ["fit", "--config", str(REPO_ROOT / "configs" / "text2image.yaml")]
    args += ["--config", str(REPO_ROOT / "configs" / "data" / "captions.yaml")]
    args += [f"--data.init_args.path={tmp_path / 'captions.jsonl'}", "--data.init_args.batch_size=4"]
    args += ["--trainer.max_steps=1", "--trainer.accelerator=cpu", "--trainer.logger=false"]
    args += ["--trainer.limit_val_batches=1", "--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={tmp_path / 'run'}", "--checkpoint.every_n_train_steps=null"]
    cli = GANLightningCLI(args=args)
    assert cli.trainer.global_step == 1
    assert cli.model.sample_fixed().shape[1:] == (3, 64, 64)
    assert "colour" in cli.datamodule.vocabulary.ids
    best = [c for c in cli.trainer.checkpoint_callbacks if isinstance(c, BestCheckpoint)]
    assert best and all(c.monitor is None for c in best)  # no MNIST caption reading to choose a best by
