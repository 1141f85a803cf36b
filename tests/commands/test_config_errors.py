"""Configuration errors as one readable paragraph: a mistyped key is named with a suggestion,
an impossible value says what is wrong; other errors pass through unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.config_errors import ConfigurationError, explain_config_error
from tests.conftest import REPO_ROOT, WGAN


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


def one_error_line(capsys) -> str:
    """What the terminal shows: exactly one ``error:`` line, no usage dump before it."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err[:3000]
    return lines[0]


def test_a_mistyped_key_is_one_line_without_the_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(["--model.init_args.n_critc=3"])
    assert exit_.value.code == 2
    line = one_error_line(capsys)
    assert "did you mean 'n_critic'?" in line and "Union" not in line


def test_the_details_follow_when_debugging(capsys, monkeypatch):
    monkeypatch.setenv("GAN_LIGHTNING_TRACEBACK", "1")
    with pytest.raises(SystemExit):
        parse(["--model.init_args.n_critc=3"])
    err = capsys.readouterr().err
    assert err.startswith("error: Unknown option 'n_critc'") and "Details: " in err and "n_critc" in err


def test_a_config_file_that_is_not_yaml_names_line_and_column(capsys, tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("model:\n  init_args: [oops\ntrainer:\n  max_steps: 3\n")
    with pytest.raises(SystemExit):
        parse(["--config", str(broken)])
    line = one_error_line(capsys)
    assert line.startswith("error: A config file is not valid YAML: ") and "line 3, column 8" in line


def test_a_missing_config_file_is_named(capsys, tmp_path: Path):
    with pytest.raises(SystemExit):
        parse(["--config", str(tmp_path / "nothere.yaml")])
    assert one_error_line(capsys) == (
        f"error: Config file not found: {tmp_path / 'nothere.yaml'}. Check the path given to --config "
        "(a relative path is read from the folder the command runs in)."
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--model.init_args.n_critic=two"],
            "Invalid value 'two' for 'n_critic' of gan_lightning.tasks.GAN: expected an int.",
        ),
        (
            ["--model.init_args.objective=gan_lightning.objectives.WassersteinLoss", "--model.init_args.n_critic=1.5"],
            "Invalid value '1.5' for 'n_critic' of gan_lightning.tasks.GAN: expected an int.",
        ),
    ],
    ids=["word-for-int", "float-for-int"],
)
def test_a_value_of_the_wrong_type_is_named_with_its_type(capsys, args, expected):
    """Not jsonargparse's "Does not validate against any of the Union subtypes ..." paragraph."""
    with pytest.raises(SystemExit):
        parse(args)
    line = one_error_line(capsys)
    assert expected in line and "Union" not in line


def test_a_choice_outside_the_literal_lists_the_choices(capsys):
    with pytest.raises(SystemExit):
        GANLightningCLI(
            args=["--config", str(REPO_ROOT / "configs" / "text2image.yaml"), "--data.init_args.label=foo"], run=False
        )
    assert one_error_line(capsys).startswith(
        "error: Invalid value 'foo' for 'label' of gan_lightning.mnist.MNISTCaptionsDataModule: expected one of "
        "'digit', 'digit_thickness', 'digit_size_thickness'."
    )


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
