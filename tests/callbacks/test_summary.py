"""The end-of-fit summary: the best FID beside its floor, checkpoints, grids, the W&B sync
line and the next commands, with paths that exist; and no crash when any of them is absent."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import onnxruntime
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from gan_lightning.callbacks import RunSummary
from gan_lightning.cli import GANLightningCLI
from tests.conftest import TINY_OVERRIDES, WGAN, TinyData, run_cli, tiny_gan, tiny_trainer


def field(output: str, label: str) -> str:
    """The text after ``label`` on its summary line."""
    found = re.search(rf"^{re.escape(label)}\s{{2,}}(.+)$", output, re.M)
    assert found, f"no '{label}' line in:\n{output}"
    return found.group(1).strip()


@pytest.mark.slow
def test_cli_fit_prints_a_summary_whose_paths_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    result = run_cli(
        [
            "fit",
            "--config",
            WGAN,
            *TINY_OVERRIDES,
            "--trainer.max_steps=4",
            "--trainer.val_check_interval=2",
            "--model.init_args.metrics.init_args.num_samples=64",
            "--trainer.logger.init_args.save_dir=runs",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout
    assert "Run finished at iteration 4" in output

    best = re.fullmatch(r"([\d.]+) best, at iteration (2|4)  \(floor ([\d.]+): .*\)", field(output, "val/fid"))
    assert best, field(output, "val/fid")
    assert re.fullmatch(r"\d+ at the best iteration, \d+ at the last validation", field(output, "val/modes_covered"))

    best_checkpoint = tmp_path / field(output, "best checkpoint")
    last_checkpoint = tmp_path / field(output, "last checkpoint")
    assert best_checkpoint.is_file() and best_checkpoint.name.startswith("best_fid_000000")
    assert last_checkpoint.is_file() and last_checkpoint.name == "last.ckpt"
    states = torch.load(best_checkpoint, weights_only=True)["callbacks"]
    best_score = next(state["best_model_score"] for key, state in states.items() if key.startswith("BestCheckpoint"))
    assert float(best.group(1)) == pytest.approx(best_score.item(), rel=1e-3)  # the same best as the checkpoint's

    grids = re.fullmatch(r"(.+)/ \(latest: (step_0000004\.png)\)", field(output, "sample grids"))
    assert grids and (tmp_path / grids.group(1) / grids.group(2)).is_file()

    sync = re.fullmatch(r"offline; upload with: wandb sync (\S+)", field(output, "W&B"))
    # the printed folder is the offline run's (its records are tested in loggers/test_wandb.py and test_sample_grid.py)
    assert sync and (tmp_path / sync.group(1)).is_dir() and sync.group(1).split("-")[-1] in output

    evaluate = field(output, "next")
    assert evaluate == f"gan-lightning evaluate {field(output, 'best checkpoint')}"
    sample = re.search(r"^\s+(gan-lightning sample .+)$", output, re.M).group(1)
    monkeypatch.chdir(tmp_path)  # the printed command works as printed, from the folder the run started in
    from gan_lightning.commands import run

    run([*sample.split()[1:], "--grid-size=4", "--interpolations=0"])
    assert (best_checkpoint.parent.parent / "sampled" / "grid.png").is_file()
    export = re.search(r"^\s+(gan-lightning export .+)$", output, re.M).group(1)
    run(export.split()[1:])
    session = onnxruntime.InferenceSession(export.split("--out ")[1])
    (latent,) = session.get_inputs()
    images = session.run(None, {latent.name: torch.randn(2, latent.shape[1]).numpy()})[0]
    assert images.shape[0] == 2 and abs(images).max() <= 1


def test_summary_without_metrics_checkpoints_or_logger(tmp_path: Path, capsys: pytest.CaptureFixture):
    trainer = tiny_trainer(tmp_path, max_steps=2, callbacks=[RunSummary()])
    trainer.fit(tiny_gan(), TinyData())
    output = capsys.readouterr().out
    assert "Run finished at iteration 2" in output
    assert field(output, "val/fid") == "not logged: no validation ran (the run ended before trainer.val_check_interval)"
    assert field(output, "checkpoints") == "none written (checkpointing is off)"
    assert Path(field(output, "run folder")).resolve() == tmp_path.resolve()  # default_root_dir without a logger
    for absent in ("best checkpoint", "sample grids", "W&B", "next", "val/modes_covered"):
        assert not re.search(rf"^{re.escape(absent)}\s", output, re.M), output


def test_summary_names_tensorboard_and_csv_folders(tmp_path: Path, capsys: pytest.CaptureFixture):
    loggers = [TensorBoardLogger(tmp_path, name="tb"), CSVLogger(tmp_path, name="csv")]
    trainer = tiny_trainer(
        tmp_path, max_steps=2, logger=loggers, log_every_n_steps=1, enable_checkpointing=True, callbacks=[RunSummary()]
    )
    trainer.fit(tiny_gan(), TinyData())
    output = capsys.readouterr().out
    assert Path(field(output, "TensorBoard").removeprefix("tensorboard --logdir ")).is_dir()
    assert Path(field(output, "metrics CSV")).is_file()
    assert Path(field(output, "last checkpoint")).is_file()  # Lightning's default ModelCheckpoint (no monitor)
    assert field(output, "next").startswith("gan-lightning evaluate ") and "--config" in field(output, "next")


def validations(summary: RunSummary, values: list[dict[str, float]]) -> None:
    for step, logged in enumerate(values, start=1):
        metrics = {key: torch.tensor(value) for key, value in logged.items()}
        summary.on_validation_end(
            SimpleNamespace(sanity_checking=False, callback_metrics=metrics, global_step=step), None
        )


def test_best_value_its_iteration_and_the_floor():
    summary = RunSummary()
    validations(
        summary,
        [
            {"val/fid": 5.0, "val/fid_floor": 0.5, "val/modes_covered": 7.0},
            {"val/fid": 3.0, "val/modes_covered": 9.0},
            {"val/fid": float("nan"), "val/modes_covered": 2.0},
            {"val/fid": 4.0, "val/modes_covered": 8.0},
        ],
    )
    lines = dict(summary.metric_lines()[:1])
    assert lines["val/fid"].startswith("3 best, at iteration 2  (floor 0.5")
    assert ("", "4 at the last validation") in summary.metric_lines()
    assert ("val/modes_covered", "9 at the best iteration, 8 at the last validation") in summary.metric_lines()

    restored = RunSummary()
    restored.load_state_dict(summary.state_dict())  # a resumed run remembers the best so far
    validations(restored, [{"val/fid": 3.5}])
    assert restored.best["value"] == 3.0


def test_why_the_metric_is_missing_says_which_of_the_reasons():
    """A run with metrics off (its validations log only the training losses, or only D's
    readouts, which every GAN validation logs), and one whose validations log other values
    (a classifier's accuracy)."""
    for logged in ({"train/d_loss": 0.3}, {"val/D(x)": 0.6, "val/D(G(z))": 0.3, "val/D(x)_gap": 0.1}):
        metrics_off = RunSummary()
        validations(metrics_off, [logged])
        assert metrics_off.metric_lines() == [
            ("val/fid", "not logged: the model computes no validation metrics (model.init_args.metrics is off)")
        ]
    other = RunSummary()
    validations(other, [{"val/accuracy": 0.9, "val/loss": 0.2}])
    assert other.metric_lines() == [("val/fid", "not logged: the validations logged val/accuracy, val/loss")]


def test_higher_is_better_and_bad_mode():
    summary = RunSummary(metric="val/inception_score", mode="max")
    validations(summary, [{"val/inception_score": 5.0}, {"val/inception_score": 7.0}, {"val/inception_score": 6.0}])
    assert summary.best == {"value": 7.0, "step": 2.0}
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        RunSummary(mode="lowest")


def test_print_config_shows_the_summary_options(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as exit_info:
        GANLightningCLI(args=["fit", "--config", WGAN, "--print_config"])
    assert exit_info.value.code in (0, None)
    printed = capsys.readouterr().out
    # null: the summary reports the metric the best checkpoint follows (wgan.yaml: val/fid)
    assert re.search(r"^summary:\n  metric: null\n  mode: null$", printed, re.M), printed[-2000:]


def test_summary_follows_the_best_checkpoints_metric(tmp_path: Path):
    from gan_lightning.callbacks import BestCheckpoint

    summary = RunSummary()
    best = BestCheckpoint(monitor="val/psnr", mode="max", dirpath=str(tmp_path))
    summary.on_fit_start(SimpleNamespace(checkpoint_callbacks=[best]), None)
    assert (summary.metric, summary.mode) == ("val/psnr", "max")
    validations(summary, [{"val/psnr": 20.0}, {"val/psnr": 21.5}, {"val/psnr": 21.0}])
    assert summary.best["value"] == 21.5
