"""``extends:``: a config that is another model plus a change names its parent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gan_lightning.config.compose import ConfigCompositionError, config_chain, expand_config_arguments
from tests.conftest import REPO_ROOT


def write(path: Path, content: dict) -> Path:
    path.write_text(yaml.safe_dump(content))
    return path


def test_a_config_is_read_after_everything_it_extends(tmp_path: Path):
    base = write(tmp_path / "base.yaml", {"trainer": {"max_steps": 1}})
    middle = write(tmp_path / "middle.yaml", {"extends": "base.yaml", "trainer": {"max_steps": 2}})
    (tmp_path / "sub").mkdir()
    child = write(tmp_path / "sub" / "child.yaml", {"extends": "../middle.yaml"})
    assert [p.resolve() for p in config_chain(child)] == [base, middle, child.resolve()]
    expanded = expand_config_arguments(["fit", "--config", str(child), "--trainer.max_steps=3"])
    assert expanded[0] == "fit" and expanded[-1] == "--trainer.max_steps=3"
    assert expanded[1:-1:2] == ["--config"] * 3
    assert [Path(p).resolve() for p in expanded[2:-1:2]] == [base, middle, child.resolve()]


def test_cycles_and_missing_parents_are_one_line_errors(tmp_path: Path):
    write(tmp_path / "a.yaml", {"extends": "b.yaml"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml"})
    with pytest.raises(ConfigCompositionError, match="extends itself"):
        config_chain(tmp_path / "a.yaml")
    write(tmp_path / "c.yaml", {"extends": "nowhere.yaml"})
    with pytest.raises(ConfigCompositionError, match=r"nowhere\.yaml, which does not exist"):
        expand_config_arguments([f"--config={tmp_path / 'c.yaml'}"])


def test_lsgan_is_dcgan_with_its_loss_and_the_saved_run_config_stands_alone(tmp_path: Path):
    from gan_lightning.cli import GANLightningCLI

    run = [
        "--trainer.max_steps=1",
        "--trainer.accelerator=cpu",
        "--trainer.logger=false",
        "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={tmp_path}",
        "--data.init_args.batch_size=8",
    ]
    cli = GANLightningCLI(args=["fit", "--config", str(REPO_ROOT / "configs" / "lsgan.yaml"), *run])
    dcgan = GANLightningCLI(args=["--config", str(REPO_ROOT / "configs" / "dcgan.yaml")], run=False)
    assert type(cli.model.objective).__name__ == "LeastSquaresLoss"
    assert type(cli.model.generator) is type(dcgan.model.generator)
    assert cli.model.generator.state_dict().keys() == dcgan.model.generator.state_dict().keys()
    saved = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert saved["extends"] is None and saved["model"]["init_args"]["objective"]["class_path"].endswith(
        "LeastSquaresLoss"
    )
