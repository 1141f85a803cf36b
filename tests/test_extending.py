"""The "extend it for your paper" path: a user's own file + YAML, run by the CLI exactly
as docs/extending.md tells users to, with no change to the package."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tests.conftest import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "my_paper"
TINY = [
    "--trainer.max_steps=3",
    "--trainer.limit_val_batches=1",
    "--trainer.log_every_n_steps=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--data=gan_lightning.data.Digits8x8DataModule",
    "--data.init_args.batch_size=16",
    "--data.init_args.image_size=8",
    "--model.init_args.generator.init_args.base_width=4",
    "--model.init_args.discriminator.init_args.base_width=4",
]


@pytest.fixture(scope="module")
def example_run(tmp_path_factory) -> Path:
    """`lightning fit --config my_paper.yaml` (+ tiny overrides) from the example's folder."""
    out = tmp_path_factory.mktemp("my_paper_run")
    lightning = Path(sys.executable).with_name("lightning")
    command = [str(lightning), "fit", "--config", "my_paper.yaml", *TINY]
    command += [
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
        f"--trainer.logger.init_args.save_dir={out}",
        "--trainer.logger.init_args.name=my_paper",
        f"--trainer.default_root_dir={out}",
    ]
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "HOME": str(out)}
    env.pop("PYTHONPATH", None)  # the example must import without any path set-up
    result = subprocess.run(command, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "my_paper" / "version_0"


@pytest.mark.slow
def test_example_trains_through_the_cli_with_the_users_classes(example_run):
    config = yaml.safe_load((example_run / "config.yaml").read_text())
    model = config["model"]["init_args"]
    assert model["objective"]["class_path"] == "my_paper.RelativisticPairingLoss"
    assert [r["class_path"] for r in model["regularizers"]][-1] == "my_paper.MeanScoreAnchor"
    with open(example_run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    logged = {key for row in rows for key, value in row.items() if value}
    assert [r["class_path"] for r in model["generator_regularizers"]] == ["my_paper.JacobianClamping"]
    assert {"train/d_loss", "train/g_loss", "train/MeanScoreAnchor", "train/R1Penalty", "train/R2Penalty"} <= logged
    assert "train/JacobianClamping" in logged
    losses = [float(row["train/d_loss"]) for row in rows if row.get("train/d_loss")]
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    checkpoint = torch.load(example_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert checkpoint["global_step"] == 3


def test_example_classes_keep_their_contracts():
    """The example's formulas, checked against hand-computed values."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        from my_paper import JacobianClamping, MeanScoreAnchor, RelativisticPairingLoss
    finally:
        sys.path.remove(str(EXAMPLE))
    from gan_lightning.regularizers import DiscriminatorBatch

    loss = RelativisticPairingLoss()
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    softplus = torch.nn.functional.softplus
    assert torch.isclose(
        loss.discriminator_loss(real, fake), (softplus(torch.tensor(-1.0)) + softplus(torch.tensor(0.0))) / 2
    )
    assert torch.isclose(
        loss.generator_loss(fake, real), (softplus(torch.tensor(1.0)) + softplus(torch.tensor(0.0))) / 2
    )
    # A relativistic loss is blind to a constant added to D: that is why the anchor exists.
    assert torch.isclose(loss.discriminator_loss(real + 5, fake + 5), loss.discriminator_loss(real, fake))
    with pytest.raises(ValueError, match="generator_needs_real"):
        loss.generator_loss(fake)

    anchor = MeanScoreAnchor(weight=0.5)
    batch = DiscriminatorBatch(
        discriminator=lambda x: x.sum(dim=1), real=torch.tensor([[1.0, 2.0], [3.0, 0.0]]), fake=torch.zeros(2, 2)
    )
    term, value = anchor(batch)
    assert torch.isclose(value, torch.tensor(9.0)) and torch.isclose(term, torch.tensor(4.5))

    # Jacobian clamping on a generator that stretches every direction by k: Q = k exactly.
    from gan_lightning.regularizers import GeneratorBatch

    clamp = JacobianClamping(weight=2.0, lambda_min=1.0, lambda_max=3.0)
    for k, expected in ((2.0, 0.0), (5.0, 4.0), (0.5, 0.25)):
        stretch = GeneratorBatch(torch.nn.Identity(), lambda z, k=k: k * z, latent=torch.randn(4, 3))
        term, value = clamp(stretch)
        assert torch.isclose(value, torch.tensor(expected), atol=1e-5) and torch.isclose(term, 2.0 * value)


PAPER_TASK = REPO_ROOT / "examples" / "perceptual_pix2pix"


@pytest.mark.slow
def test_a_new_image_to_image_task_is_one_file_and_one_config(tmp_path: Path):
    """docs/extending.md's task example: ``perceptual_pix2pix.py`` (a PairedTranslation whose
    largest part is its training_step) + a config, trained through the CLI from its folder."""
    source = (PAPER_TASK / "perceptual_pix2pix.py").read_text()
    body = source.split("class PerceptualPix2Pix", 1)[1]
    methods = {name: len(block.splitlines()) for name, block in (m.split("(", 1) for m in body.split("\n    def ")[1:])}
    assert max(methods, key=methods.get) == "training_step", methods
    command = [
        str(Path(sys.executable).with_name("lightning")), "fit", "--config", "perceptual_pix2pix.yaml",
        "--trainer.max_steps=3", "--trainer.val_check_interval=3", "--trainer.limit_val_batches=1",
        "--trainer.log_every_n_steps=1", "--trainer.enable_progress_bar=false", "--data.init_args.batch_size=8",
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger", f"--trainer.logger.init_args.save_dir={tmp_path}",
        "--trainer.logger.init_args.name=paper", f"--trainer.default_root_dir={tmp_path}",
    ]  # fmt: skip
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(command, cwd=PAPER_TASK, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run = tmp_path / "paper" / "version_0"
    with open(run / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    logged = {key for row in rows for key, value in row.items() if value}
    assert {"train/g_perceptual", "train/g_l1", "val/l1", "val/l1_identity", "val/digit_accuracy"} <= logged
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["class_path"] == "perceptual_pix2pix.PerceptualPix2Pix"
    assert list((run / "samples").glob("step_*.png")), "the strips of the shared base were not drawn"
