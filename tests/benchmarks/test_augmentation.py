"""benchmarks/augmentation.py: the aggregation over seeds and its table."""

from __future__ import annotations

import pytest


def test_benchmark_aggregates_mean_and_standard_error():
    from benchmarks.augmentation import markdown_table, summarize

    runs = [
        {"labels_per_class": k, "seed": s, "real": r, "synthetic": c, "real+synthetic": m, "gain": m - r,
         "synthetic_read_as_label": 0.9, "gan_seconds": 100.0 + s}
        for k, s, r, c, m in [(50, 0, 0.90, 0.70, 0.88), (50, 1, 0.92, 0.74, 0.90), (100, 0, 0.95, 0.8, 0.96)]
    ]  # fmt: skip
    summary = summarize(runs)
    assert list(summary) == ["50", "100"]
    assert summary["50"]["real"]["mean"] == pytest.approx(0.91)
    assert summary["50"]["real"]["se"] == pytest.approx(0.01)
    assert summary["50"]["gain"]["mean"] == pytest.approx(-0.02)
    assert summary["100"]["gain"]["n"] == 1
    table = markdown_table(summary, iterations=1200)
    assert "| 50 | 91.0 ± 1.0 | 72.0 ± 2.0 | 89.0 ± 1.0 | **-2.0 ± 0.0** |" in table
    assert "| 100 | 95.0 | 80.0 | 96.0 | **+1.0** |" in table  # one seed: no standard error to show
