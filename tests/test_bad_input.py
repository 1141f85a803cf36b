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
from gan_lightning.config_errors import ConfigurationError, explain_config_error
from gan_lightning.tasks import GAN
from tests.conftest import REPO_ROOT, tiny_gan

WGAN = str(REPO_ROOT / "configs" / "wgan.yaml")
TINY = str(REPO_ROOT / "tests" / "configs" / "ddp_tiny.yaml")


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

    model = GAN.load_from_checkpoint(
        wide_checkpoint,
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        ema_kimg=None,
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
