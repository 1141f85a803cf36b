"""benchmarks/harness.py: what every benchmark shares (statistics, the training clock, the bare
Trainer, CLI runs in a child process, the common flags)."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from benchmarks import harness
from benchmarks.harness import TrainingClock, bare_trainer, format_mean_se, mean_and_stderr


def test_mean_and_standard_error_use_the_sample_standard_deviation():
    stat = mean_and_stderr([0.8, 0.9, 1.0])
    assert stat["n"] == 3 and stat["mean"] == pytest.approx(0.9)
    assert stat["se"] == pytest.approx(0.1 / math.sqrt(3))  # sd (n - 1) = 0.1, over √3


def test_one_value_has_no_standard_error_and_shows_its_mean_alone():
    assert mean_and_stderr([0.5]) == {"mean": 0.5, "se": None, "n": 1}
    assert format_mean_se(mean_and_stderr([0.5]), 2) == "0.50"
    assert format_mean_se({"mean": 0.5, "se": 0.0, "n": 1}, 2) == "0.50"  # files written when one value stored se 0
    with pytest.raises(ValueError, match="No values"):
        mean_and_stderr([])


def test_format_scales_signs_and_separates_as_each_table_writes_it():
    stat = mean_and_stderr([-0.03, -0.02, -0.05])
    assert format_mean_se(stat, scale=100, signed=True) == "-3.3 ± 0.9"
    assert format_mean_se(mean_and_stderr([0.01, 0.03]), 1, scale=100, signed=True) == "+2.0 ± 1.0"
    assert format_mean_se(mean_and_stderr([8.0, 8.0]), separator="±") == "8.0±0.0"


class SlowValidation(pl.LightningModule):
    """A linear model whose validation sleeps, so validation time is clearly nonzero."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        time.sleep(0.05)
        self.log("val/fid", float(self.global_step))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def loader() -> DataLoader:
    return DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=2)


def test_training_clock_leaves_validation_out_and_hands_its_record_to_the_run_folder(tmp_path):
    clock = TrainingClock()
    trainer = pl.Trainer(
        max_steps=4,
        val_check_interval=2,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        callbacks=[clock],
        logger=pl.loggers.CSVLogger(tmp_path),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(SlowValidation(), loader(), loader())
    record = json.loads(Path(trainer.log_dir, TrainingClock.FILE).read_text())
    assert record["iterations"] == 4 == clock.iterations
    assert [point["iteration"] for point in record["history"]] == [2, 4]
    assert [point["val/fid"] for point in record["history"]] == [2.0, 4.0]
    assert record["validation_seconds"] >= 2 * 4 * 0.05  # two validations of four sleeping batches
    first, second = (point["train_seconds"] for point in record["history"])
    assert 0 <= first <= second <= record["train_seconds"] == clock.seconds
    first_cpu, second_cpu = (point["train_cpu_seconds"] for point in record["history"])
    assert 0 <= first_cpu <= second_cpu <= record["train_cpu_seconds"]


class SlowSteps(SlowValidation):
    """Each step sleeps longer than the one before: the first ones are the slowest to leave out."""

    def training_step(self, batch, batch_idx):
        time.sleep(0.1 if self.global_step < 2 else 0.01)
        return super().training_step(batch, batch_idx)


def test_training_clock_times_iterations_after_the_warm_up_only(tmp_path):
    clock = TrainingClock(warmup=2)
    bare_trainer(4, [clock], default_root_dir=tmp_path).fit(SlowSteps(), loader())
    assert clock.iterations == 2
    assert 0.02 <= clock.seconds < 0.2  # the two 0.1 s warm-up steps are not in it
    assert clock.rate == pytest.approx(2 / clock.seconds)
    assert not list(tmp_path.rglob(TrainingClock.FILE))  # no logger: nothing written


def test_bare_trainer_has_only_the_loop_and_takes_overrides():
    trainer = bare_trainer(3)
    assert trainer.max_steps == 3 and trainer.logger is None and trainer.limit_val_batches == 0
    assert trainer.checkpoint_callback is None and not trainer.progress_bar_callback
    assert bare_trainer(3, limit_val_batches=None).limit_val_batches == 1.0


def test_finish_applies_the_quick_settings_and_the_default_results_file():
    command = harness.parser("doc")
    harness.add_common_flags(command, "thing", "two steps")
    harness.add_steps(command, 100)
    harness.add_seeds(command, [0, 1, 2])
    full = harness.finish(command.parse_args([]), "thing", {"steps": 2})
    assert (full.steps, full.seeds, full.out) == (100, [0, 1, 2], harness.RESULTS / "thing.json")
    quick = harness.finish(command.parse_args(["--quick", "--seeds", "5"]), "thing", {"steps": 2})
    assert (quick.steps, quick.seeds, quick.out) == (2, [5], harness.RESULTS / "thing_quick.json")
    chosen = harness.finish(command.parse_args(["--out", "x.json"]), "thing")
    assert chosen.out == Path("x.json")


def test_a_child_run_records_its_output_exit_code_and_memory(tmp_path):
    script = "import os, sys; print(os.environ['OMP_NUM_THREADS'], os.environ['WANDB_MODE']); sys.exit(3)"
    child = harness.run_child([sys.executable, "-c", script], tmp_path / "out.log", threads=2)
    assert child.output().split() == ["2", "offline"] and child.returncode == 3
    assert child.peak_memory_mb > 1 and child.seconds > 0
    with pytest.raises(SystemExit, match="exit 3"):
        child.check()


def test_the_run_folder_is_the_one_holding_the_checkpoints(tmp_path):
    assert harness.run_folder(tmp_path) is None
    (tmp_path / "wandb" / "files").mkdir(parents=True)  # other loggers' folders are not the run
    (tmp_path / "gan-lightning" / "abc123" / "checkpoints").mkdir(parents=True)
    assert harness.run_folder(tmp_path) == tmp_path / "gan-lightning" / "abc123"
