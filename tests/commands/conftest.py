"""Shared by the command tests: a class-conditional GAN trained two iterations through
configs/augmentation.yaml (one run for the package), and the `sample` export from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands import sample
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="package")
def conditional_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/augmentation.yaml trained 2 iterations on 10 digits per class."""
    root = tmp_path_factory.mktemp("cgan")
    cli = GANLightningCLI(
        args=[
            "fit",
            "--config",
            str(REPO_ROOT / "configs" / "augmentation.yaml"),
            "--data.init_args.labels_per_class=10",
            "--data.init_args.batch_size=16",
            "--trainer.max_steps=2",
            "--trainer.accelerator=cpu",
            "--trainer.logger=false",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={root}",
            "--checkpoint.every_n_train_steps=null",
        ]
    )
    assert cli.trainer.global_step == 2
    assert len(cli.datamodule.train_set) == 100
    assert cli.model.generator.num_classes == 10
    return root


def write(run: Path, out: Path, *extra: str) -> dict[str, Path]:
    """``sample`` from ``run``'s last checkpoint into ``out``, no grid or strips; ``extra`` are more flags."""
    argv = [str(run / "checkpoints" / "last.ckpt"), "--out", str(out), "--grid-size", "0", "--interpolations", "0"]
    return sample.write_samples(sample.build_parser().parse_args([*argv, "--device", "cpu", *extra]))
