"""benchmarks/time_to_quality.py: which validation counts as reaching 2× the floor, and the
table's ratios against this machine's hand-written loop."""

from __future__ import annotations

from benchmarks import time_to_quality


def entry(iteration: int, fid: float, floor: float, seconds: float) -> dict[str, float]:
    return {
        "iteration": iteration,
        "train_seconds": seconds,
        "train_cpu_seconds": seconds * 0.9,
        "val/fid": fid,
        "val/fid_floor": floor,
    }


def test_the_first_validation_within_twice_its_own_floor_counts():
    history = [entry(500, 3.0, 0.5, 100), entry(1000, 1.1, 0.5, 200), entry(1500, 0.99, 0.5, 300)]
    assert time_to_quality.first_within(history)["iteration"] == 1500  # 1.1 > 2 × 0.5
    assert time_to_quality.first_within(history, factor=2.5)["iteration"] == 1000
    assert time_to_quality.first_within(history[:2]) is None


def test_the_table_divides_by_the_hand_written_loop_and_says_when_never_reached():
    def run(variant: str, history: list[dict[str, float]], seconds: float) -> dict:
        clock = {"iterations": 1500, "train_seconds": seconds, "train_cpu_seconds": seconds, "history": history}
        return {
            "variant": variant,
            "clock": clock,
            "reached": time_to_quality.first_within(history),
            "rate": 1500 / seconds,
            "cpu_rate": 1500 / seconds,
            "process": {"wall_seconds": seconds + 60},
        }

    results = {
        "date": "2026-12-06",
        "machine": "a test machine",
        "threads": 1,
        "side_by_side": True,
        "val_every": 500,
        "factor": 2.0,
        "yardstick": {"rate": 5.0, "cpu_rate": 5.0},
        "load_before": [1.0],
        "load_after": [2.0],
        "runs": [
            run("eager", [entry(1500, 0.9, 0.5, 300)], 300),
            run("compiled", [entry(1500, 1.2, 0.5, 250)], 250),
        ],
    }
    table = time_to_quality.report(results)
    assert "**5.00 it/s, 5.00 it/CPU-s**" in table
    assert "| eager | 1,500 | 1.80 | 5.0 | 4.5 | 5.00 | 1.00 | 5.00 | 1.00 | 6.0 | 1.80 |" in table
    assert "| compiled | not reached | – | – | – | 6.00 | 1.20 |" in table
