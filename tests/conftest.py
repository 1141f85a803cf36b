"""Shared test set-up: offline W&B, few threads, and the tiny models, data, trainers and run
arguments that test modules share (imported as ``from tests.conftest import ...``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image, ImageSequence
from torch.utils.data import DataLoader, TensorDataset

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
CONFIG_WEIGHTS_LOCK = FIXTURES / "config_weights_lock.json"
WGAN = str(REPO_ROOT / "configs" / "wgan.yaml")
CLIP_CANVAS, CLIP_DIGIT, CLIP_FRAMES = 16, 12, 4  # tiny_moving_mnist's clips: size, digit size, frames


# ----------------------------------------------------------- the environment every test runs in
@pytest.fixture(autouse=True)
def _offline_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test may reach the network or a user's W&B account, nor inherit another test's W&B
    service: an in-process run leaves ``WANDB_SERVICE`` in ``os.environ``, and a CLI run in a
    child process would then log to that service instead of its own offline run."""
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("HOME", str(tmp_path))
    torch.set_num_threads(1)
    yield
    os.environ.pop("WANDB_SERVICE", None)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")


# --------------------------------------------------------------- tiny models, data and trainers
def tiny_batches(
    num: int = 64, shape: tuple[int, ...] = (1, 8, 8), num_classes: int = 10, seed: int = 0
) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    samples = torch.rand(num, *shape, generator=generator) * 2 - 1
    labels = torch.randint(num_classes, (num,), generator=generator)
    return TensorDataset(samples, labels)


class TinyData(pl.LightningDataModule):
    """Random 8×8 'images' in [-1, 1] with labels: fast and deterministic."""

    def __init__(self, num: int = 64, batch_size: int = 16, shape: tuple[int, ...] = (1, 8, 8)) -> None:
        super().__init__()
        self.dataset = tiny_batches(num, shape)
        self.batch_size = batch_size

    def train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            shuffle=True,
            drop_last=True,
            generator=torch.Generator().manual_seed(0),
        )

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.dataset, batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader()


def with_optimization(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Task kwargs with flat optimization settings (``generator_optimizer=``, ``ema_kimg=`` ...),
    which keep the tests short, folded into the one ``optimization`` argument tasks take (the
    mapping old run configs are upgraded with)."""
    from gan_lightning.commands.loading import FLAT_OPTIMIZATION
    from gan_lightning.training import Optimization, RoleOptimization

    kwargs = dict(kwargs)
    roles: dict[str, dict[str, Any]] = {"generator": {}, "discriminator": {}}
    averaging: dict[str, Any] = {}
    for flat, (role, field) in FLAT_OPTIMIZATION.items():
        if flat in kwargs:
            (roles[role] if role else averaging)[field] = kwargs.pop(flat)
    if any(roles.values()) or averaging:
        base = kwargs.get("optimization") or Optimization()
        kwargs["optimization"] = Optimization(
            generator=RoleOptimization(**{**vars(base.generator), **roles["generator"]}),
            discriminator=RoleOptimization(**{**vars(base.discriminator), **roles["discriminator"]}),
            ema_kimg=averaging.get("ema_kimg", base.ema_kimg),
            ema_rampup=averaging.get("ema_rampup", base.ema_rampup),
        )
    return kwargs


def tiny_gan(**overrides: Any):
    """A DCGAN pair for 8×8 grey images with a few thousand parameters."""
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.tasks import GAN

    kwargs: dict[str, Any] = {
        "generator": DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=4),
        "discriminator": DCGANDiscriminator(image_size=8, channels=1, base_width=4, norm="none"),
        "num_fixed": 4,
    }
    kwargs.update(overrides)
    return GAN(**with_optimization(kwargs))


def tiny_trainer(
    folder: Path, max_steps: int = 2, callbacks: list[pl.Callback] | None = None, **overrides: Any
) -> pl.Trainer:
    """A one-device CPU trainer with nothing around the loop: no logger, progress bar, model
    summary or sanity check, one validation batch, and checkpointing only when a
    ``ModelCheckpoint`` is among ``callbacks``. ``overrides`` go to ``pl.Trainer`` as given."""
    callbacks = callbacks or []
    options: dict[str, Any] = {
        "accelerator": "cpu",
        "devices": 1,
        "max_steps": max_steps,
        "logger": False,
        "enable_checkpointing": any(isinstance(c, ModelCheckpoint) for c in callbacks),
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "limit_val_batches": 1,
        "callbacks": callbacks,
        "default_root_dir": str(folder),
    }
    options.update(overrides)
    return pl.Trainer(**options)


def tiny_moving_mnist(**overrides: Any) -> Any:
    """Moving MNIST at the CLIP_* sizes: 48 training clips (six batches of 8: short runs cross an
    epoch) and 16 held-out ones."""
    from gan_lightning.mnist import MovingMNISTDataModule

    kwargs: dict[str, Any] = {
        "canvas": CLIP_CANVAS,
        "digit_size": CLIP_DIGIT,
        "num_frames": CLIP_FRAMES,
        "train_clips": 48,
        "val_clips": 16,
        "batch_size": 8,
    }
    kwargs.update(overrides)
    return MovingMNISTDataModule(**kwargs)


@pytest.fixture
def make_gan() -> Callable[..., Any]:
    return tiny_gan


@pytest.fixture
def make_trainer(tmp_path: Path) -> Callable[..., pl.Trainer]:
    return lambda **kw: tiny_trainer(tmp_path, **kw)


@pytest.fixture
def tiny_data() -> TinyData:
    return TinyData()


@pytest.fixture(scope="session")
def mnist_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST-5k as the GAN configs split it: (train images, train labels, held-out images, labels)."""
    from gan_lightning.mnist import MNIST5kDataModule

    data = MNIST5kDataModule(val_size=500)
    data.setup()
    return (*data.train_set.tensors, *data.val_set.tensors)


@pytest.fixture
def wide_checkpoint(make_trainer, tiny_data, tmp_path: Path) -> Path:
    """A checkpoint of a tiny GAN twice as wide as ``tiny_gan()``: another architecture."""
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


# ---------------------------------------------------- batches, clips and state, for assertions
def first_batch(module: pl.LightningDataModule, train: bool = True) -> Any:
    """The first training (or held-out) batch of a data module, prepared and set up as fit does."""
    module.prepare_data()
    module.setup("fit")
    return next(iter(module.train_dataloader() if train else module.val_dataloader()))


def in_range(*images: torch.Tensor) -> bool:
    """float32 images in [-1, 1], as every data module hands them out."""
    return all(image.dtype == torch.float32 and image.min() >= -1 and image.max() <= 1 for image in images)


def moving_square(frames: int = 6, size: int = 16, step: int = 1) -> torch.Tensor:
    """One (1, 1, T, size, size) clip: a 3-px white square moving ``step`` px right per frame."""
    clip = torch.full((1, 1, frames, size, size), -1.0)
    for t in range(frames):
        clip[0, 0, t, 5:8, 2 + t * step : 5 + t * step] = 1.0
    return clip


def gif_pixels(path: Path) -> list[np.ndarray]:
    """The frames of a GIF file as grey arrays."""
    with Image.open(path) as gif:
        return [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]


def same_frames(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    """Equal frame by frame (and as many frames)."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def assert_same_state(a: Any, b: Any, where: str = "") -> None:
    """Bit-equal nested state (tensors, dicts, lists, plain values); ``where`` names the first
    difference, e.g. ``model.generator.0.weight``."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_state(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def every_step_checkpoints(folder: Path) -> ModelCheckpoint:
    """A checkpoint after every iteration, ``step=N.ckpt``: the resume points of exact-resume tests."""
    return ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=1, save_top_k=-1)


def end_of_training(trainer: pl.Trainer, model: pl.LightningModule) -> dict[str, Any]:
    """What an exact resume must reproduce: the module's state (G, D, averages, fixed noise),
    every optimizer's state and the global torch random stream."""
    return {
        "state": model.state_dict(),
        "optimizers": [optimizer.state_dict() for optimizer in trainer.optimizers],
        "rng": torch.get_rng_state(),
    }


def assert_same_end_of_training(trainer: pl.Trainer, model: pl.LightningModule, expected: Mapping[str, Any]) -> None:
    """The resumed run ended bit for bit where ``expected`` (:func:`end_of_training`) did."""
    actual = end_of_training(trainer, model)
    assert_same_state(actual["state"], expected["state"], "model")
    assert_same_state(actual["optimizers"], expected["optimizers"], "optimizers")
    assert torch.equal(actual["rng"], expected["rng"]), "random stream differs after resuming"


# ---------------------------------------------------------------- runs through the command line
def tiny_run(config: Path, root: Path) -> list[str]:
    """``lightning fit`` arguments that shrink a shipped config's run (two iterations, batch 8,
    one validation batch, no logger or periodic checkpoints) but never its model."""
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


# configs/wgan.yaml shrunk to 8-px digits and a few iterations, for CLI runs
TINY_OVERRIDES = [
    "--data=gan_lightning.data.Digits8x8DataModule",
    "--data.init_args.batch_size=16",
    "--data.init_args.image_size=8",
    "--model.init_args.generator.init_args.base_width=4",
    "--model.init_args.discriminator.init_args.base_width=4",
    "--model.init_args.n_critic=2",
    "--trainer.limit_val_batches=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.log_every_n_steps=1",
]


#: Variables a launcher (torchrun, SLURM, an outer DDP test) leaves behind that would make a
#: child process think it is one rank of a bigger job.
LAUNCHER_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT")
SLURM_VARIABLES = ("SLURM_JOB_ID", "SLURM_NTASKS")


def child_environment() -> dict[str, str]:
    """The environment of a child training process: this checkout importable, one thread, W&B
    off, and no launcher or SLURM variables (a test adds the ones it means)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    for name in (*LAUNCHER_VARIABLES, *SLURM_VARIABLES):
        env.pop(name, None)
    return env


def run_cli(args: list[str], cwd: Path, timeout: int = 240) -> subprocess.CompletedProcess:
    """``python -m gan_lightning ARGS`` in a child process, as a user runs it (W&B offline, not disabled)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "WANDB_SILENT": "true"}
    env.pop("WANDB_MODE", None)
    env.pop("WANDB_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "gan_lightning", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# configs/wgan.yaml at 8 px with the MNIST feature network: FID and its floor in a few seconds
TINY_WGAN_WITH_METRICS = [
    "--data=gan_lightning.data.Digits8x8DataModule",
    "--data.init_args.val_size=500",
    "--data.init_args.batch_size=16",
    "--data.init_args.image_size=8",
    "--model.init_args.generator.init_args.base_width=4",
    "--model.init_args.discriminator.init_args.base_width=4",
    "--model.init_args.n_critic=1",
    "--model.init_args.num_fixed=4",
    "--model.init_args.metrics.init_args.features=gan_lightning.mnist.MNISTFeatures",
    "--model.init_args.metrics.init_args.features.init_args.digit_box=20",
    "--model.init_args.metrics.init_args.num_samples=64",
    "--trainer.limit_val_batches=2",
    "--trainer.val_check_interval=2",
    "--trainer.num_sanity_val_steps=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.log_every_n_steps=1",
]


@pytest.fixture(scope="session")
def wgan_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-iteration CLI run of configs/wgan.yaml at 8×8 with CSV logs: its run folder (one per session)."""
    from gan_lightning.cli import GANLightningCLI

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("run")
    GANLightningCLI(
        args=[
            "fit",
            "--config",
            WGAN,
            *TINY_WGAN_WITH_METRICS,
            "--trainer.max_steps=4",
            "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
            f"--trainer.logger.init_args.save_dir={root}",
            "--trainer.logger.init_args.name=tiny",
            f"--trainer.default_root_dir={root}",
        ]
    )
    (run,) = (root / "tiny").iterdir()
    return run
