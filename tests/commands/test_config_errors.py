"""Configuration errors as one readable paragraph: a mistyped key is named with a suggestion,
an impossible value says what is wrong; other errors pass through unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.config_errors import ConfigurationError, explain_config_error
from tests.conftest import WGAN


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
