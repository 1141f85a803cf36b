"""`gan-lightning evaluate CKPT` on a tiny CLI run (a table, and JSON with every metric beside
its floor, reproducible), `lightning validate --ckpt_path`, and one-line errors for bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.commands import run


def test_evaluate_prints_a_table_and_writes_every_metric_with_its_floor(
    wgan_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "metrics.json"
    checkpoint = wgan_run / "checkpoints" / "last.ckpt"
    main(["evaluate", str(checkpoint), "--num-samples", "64", "--digit-box", "20", "--out", str(out)])
    table = capsys.readouterr().out
    assert "fid" in table and "floor" in table and "features: mnist" in table
    record = json.loads(out.read_text())
    assert record["feature_network"] == "mnist" and record["generator"] == "ema"
    assert record["sample_counts"] == {"reference": 500, "floor": 64, "generated": 64}  # --data.init_args.val_size=500
    for name in ("fid", "kid", "precision", "recall", "inception_score", "modes_covered", "class_kl"):
        entry = record["metrics"][name]
        assert entry["floor"] is not None, name
    assert record["metrics"]["fid"]["floor"] < record["metrics"]["fid"]["value"]
    again = tmp_path / "again.json"
    main(["evaluate", str(checkpoint), "--num-samples", "64", "--digit-box", "20", "--out", str(again)])
    assert json.loads(again.read_text())["metrics"] == record["metrics"]  # seeded: reproducible


def test_lightning_validate_with_ckpt_path_logs_fid(wgan_run: Path) -> None:
    cli = GANLightningCLI(
        args=[
            "validate",
            "--config",
            str(wgan_run / "config.yaml"),
            "--ckpt_path",
            str(wgan_run / "checkpoints" / "last.ckpt"),
            "--trainer.logger=false",
            f"--trainer.default_root_dir={wgan_run / 'validate'}",
        ]
    )
    metrics = cli.trainer.callback_metrics
    assert torch.isfinite(metrics["val/fid"]) and "val/fid_floor" in metrics and "val/modes_covered" in metrics


def test_unknown_options_fail_clearly(wgan_run: Path, tmp_path: Path) -> None:
    checkpoint = str(wgan_run / "checkpoints" / "last.ckpt")
    with pytest.raises(SystemExit, match=r"^error: --steps must be at least 2"):  # one line, no traceback
        main(["sample", checkpoint, "--out", str(tmp_path), "--steps", "1"])
    with pytest.raises(FileNotFoundError, match="Checkpoint not found"):  # the type beneath, for callers
        run(["evaluate", str(tmp_path / "missing.ckpt")])


def test_evaluate_prints_the_held_out_accuracy_of_a_semi_supervised_gan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """configs/semi_supervised.yaml through the CLI for 2 iterations: `evaluate` adds the
    classifier's accuracy on the run's 500 held-out digits to the samples' scores."""
    from gan_lightning.commands.evaluate import held_out_accuracy
    from tests.conftest import REPO_ROOT, tiny_run

    cli = GANLightningCLI(args=tiny_run(REPO_ROOT / "configs" / "semi_supervised.yaml", tmp_path))
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    out = tmp_path / "metrics.json"
    main(["evaluate", str(checkpoint), "--num-samples", "64", "--no-kid", "--no-precision-recall", "--out", str(out)])
    accuracy = json.loads(out.read_text())["metrics"]["accuracy"]
    expected = held_out_accuracy(cli.model, list(cli.datamodule.val_dataloader()))
    assert accuracy == {"value": pytest.approx(expected), "floor": None}
    assert any(line.startswith("accuracy") for line in capsys.readouterr().out.splitlines())


def test_truncated_noise_is_recorded_and_changes_the_scores(
    wgan_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = str(wgan_run / "checkpoints" / "last.ckpt")
    common = ["--num-samples", "64", "--digit-box", "20", "--no-floor", "--no-kid"]
    main(["evaluate", checkpoint, *common, "--out", str(tmp_path / "plain.json")])
    main(["evaluate", checkpoint, *common, "--truncation", "0.5", "--out", str(tmp_path / "cut.json")])
    assert "noise truncated to ±0.5" in capsys.readouterr().out
    plain, cut = (json.loads((tmp_path / name).read_text()) for name in ("plain.json", "cut.json"))
    assert plain["truncation"] is None and cut["truncation"] == 0.5
    assert cut["metrics"]["fid"]["value"] != plain["metrics"]["fid"]["value"]
    with pytest.raises(SystemExit, match=r"^error: --truncation: truncation threshold must be a positive number"):
        main(["evaluate", checkpoint, *common, "--truncation", "-1"])


def test_the_d_filter_is_recorded_with_its_acceptance(wgan_run: Path, tmp_path: Path, capsys) -> None:
    checkpoint = str(wgan_run / "checkpoints" / "last.ckpt")
    common = ["--num-samples", "64", "--digit-box", "20", "--no-floor", "--no-kid"]
    main(["evaluate", checkpoint, *common, "--reject-quantile", "0.5", "--out", str(tmp_path / "kept.json")])
    assert "D-filter at the training scores' 0.5 quantile" in capsys.readouterr().out
    record = json.loads((tmp_path / "kept.json").read_text())
    rejection = record["rejection"]
    assert rejection["kept"] == 64 and rejection["drawn"] >= 64
    assert rejection["acceptance"] == pytest.approx(64 / rejection["drawn"])
    with pytest.raises(SystemExit, match=r"^error: --reject-quantile: rejection quantile must be in \[0, 1\)"):
        main(["evaluate", checkpoint, *common, "--reject-quantile", "1.5"])


def test_the_d_filter_refuses_a_class_conditional_discriminator_in_one_line() -> None:
    from types import SimpleNamespace

    from gan_lightning.commands.evaluate import discriminator_filtered
    from gan_lightning.errors import CommandLineError

    conditional = torch.nn.Linear(4, 1)
    conditional.num_classes = 10
    module = SimpleNamespace(discriminator=conditional)
    with pytest.raises(CommandLineError, match="class-conditional"):
        discriminator_filtered(module, lambda num, generator: torch.zeros(num, 4), torch.zeros(8, 4), 0.1)
