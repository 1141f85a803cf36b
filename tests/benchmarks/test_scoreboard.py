"""benchmarks/scoreboard.py: its command line, its training clock and what it renders."""

from __future__ import annotations

from pathlib import Path

from benchmarks.scoreboard import (
    copy_grid,
    duration,
    fill_models_table,
    fit_overrides,
    plot_fid_against_time,
    report,
)


def scored(config: str, fid: float, iterations: int = 100) -> dict:
    metrics = {
        "fid": {"value": fid, "floor": 0.47},
        "kid": {"value": fid / 30, "floor": 0.005},
        "precision": {"value": 0.5, "floor": 0.9},
        "recall": {"value": 0.1, "floor": 0.89},
        "modes_covered": {"value": 10, "floor": 10},
        "class_kl": {"value": 0.2, "floor": 0.03},
    }
    history = [
        {"iteration": 10, "train_seconds": 5.0, "val/fid": fid * 2, "val/fid_floor": 0.54},
        {"iteration": iterations, "train_seconds": 40.0, "val/fid": fid},
    ]
    return {
        "config": config,
        "metrics": metrics,
        "iterations": iterations,
        "train_seconds": 40.0,
        "fit": {"returncode": 0, "wall_seconds": 60.0, "peak_memory_mb": 900.0},
        "load_average": 1.5,
        "history": history,
        "grid": f"docs/images/scoreboard_{config}.png",
    }


def results(quick: bool = True) -> dict:
    return {
        "budget_seconds": 45.0,
        "quick": quick,
        "threads": 1,
        "date": "2026-12-04",
        "configs": {
            "gan": scored("gan", 30.0),
            "sngan": {"config": "sngan", "fit": {"returncode": 1}, "error": "boom"},
            "dcgan": scored("dcgan", 8.5),
        },
    }


def test_duration_is_lightnings_days_hours_minutes_seconds():
    assert duration(45) == "00:00:00:45"
    assert duration(300) == "00:00:05:00"
    assert duration(90061) == "01:01:01:01"
    assert duration(0.2) == "00:00:00:01"  # Lightning needs a positive interval


def test_fit_overrides_budget_validation_and_metrics():
    command = fit_overrides("augmentation", 300, Path("/tmp/runs"))
    assert "--trainer.max_time=00:00:05:00" in command
    assert "--trainer.val_check_interval=00:00:00:38" in command  # budget / 8, time-based
    assert "--trainer.callbacks+=benchmarks.harness.TrainingClock" in command
    assert "--model.init_args.metrics.init_args.features=mnist" in command
    assert "--data.init_args.labels_per_class=null" in command  # the whole training split
    assert "--data.init_args.labels_per_class=null" not in fit_overrides("gan", 300, Path("/tmp/runs"))


def test_report_ranks_by_fid_with_floor_first_and_failures_last():
    text = report(results())
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line.split("|")[2]]
    assert [row.split("|")[2].strip() for row in rows[:3]] == ["`dcgan`", "`gan`", "`sngan`"]
    assert "failed" in rows[2]
    floor_row = next(line for line in text.splitlines() if "floor (real vs real)" in line)
    assert "| 0.47 |" in floor_row and "| 0.900 |" in floor_row
    assert "**45 s** (`--quick`)" in text
    assert "![FID against training time](docs/images/scoreboard_fid_vs_time_quick.png)" in text  # never the full run's
    assert "![dcgan](docs/images/scoreboard_dcgan.png)" in text
    assert "scoreboard_sngan.png" not in text  # no grid for a failed run
    assert "--budget 300" in text  # the full run's command is always given


def test_fill_models_table_replaces_the_fid_and_keeps_the_speed():
    text = (
        "| model | paper | config | networks | objective | on this machine |\n"
        "|---|---|---|---|---|---|\n"
        "| GAN | G 2014 | `gan.yaml` | MLP | NS | speed: 0.029 s/it, default run ≈ 2 min; FID not measured |\n"
        "| DCGAN | R 2016 | `dcgan.yaml` | DCGAN | NS | speed: 0.074 s/it; FID: see BENCHMARKS.md (metrics section) |\n"
        "| SNGAN | M 2018 | `sngan.yaml` | ResNet | hinge | speed: 0.5 s/it; FID not measured |\n"
    )
    filled = fill_models_table(text, results()).splitlines()
    assert filled[2].endswith(
        "| speed: 0.029 s/it, default run ≈ 2 min; FID 30.00 (floor 0.47) after 45 s of training (scoreboard, quick) |"
    )
    assert filled[3].endswith(
        "speed: 0.074 s/it; FID: see BENCHMARKS.md (metrics section); FID 8.50 (floor 0.47) after 45 s of training (scoreboard, quick) |"
    )
    assert filled[4].endswith("FID not measured |")  # failed run: left as it was
    assert fill_models_table("\n".join(filled) + "\n", results()) == "\n".join(filled) + "\n"  # idempotent


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "plot.png"
    plot_fid_against_time(results(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_warns_when_the_machine_was_overloaded():
    quiet = results()
    quiet["machine"] = {"cpus": 2}
    assert "Measured under load" not in report(quiet)
    busy = results()
    busy["machine"] = {"cpus": 2}
    busy["configs"]["gan"]["load_average"] = 9.2
    assert "Measured under load** (load average 1.5–9.2 on 2 cores" in report(busy)


def test_copy_grid_stores_grey_grids_as_one_channel(tmp_path, monkeypatch):
    from PIL import Image

    import benchmarks.scoreboard as scoreboard

    monkeypatch.setattr(scoreboard, "ROOT", tmp_path)
    grey = Image.effect_noise((64, 64), 60).convert("RGB")
    grey.save(tmp_path / "grid.png")
    assert copy_grid(tmp_path / "grid.png", tmp_path / "docs" / "grid.png") == "docs/grid.png"
    copied = Image.open(tmp_path / "docs" / "grid.png")
    assert copied.mode == "L" and list(copied.getdata()) == list(grey.convert("L").getdata())
