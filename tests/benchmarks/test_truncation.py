"""benchmarks/truncation.py: one row per threshold, FID against its floor, untruncated named, and
the D-filter's rows apart with the share of samples they kept."""

from __future__ import annotations

from benchmarks import truncation


def test_each_threshold_is_a_row_with_fid_over_its_floor():
    def row(threshold, fid, precision, recall, rejection=None):
        return {
            "truncation": threshold,
            "rejection": rejection,
            "fid": {"value": fid, "floor": 0.5},
            "precision": {"value": precision, "floor": 0.9},
            "recall": {"value": recall, "floor": 0.89},
            "modes_covered": {"value": 10, "floor": 10},
            "class_kl": {"value": 0.01, "floor": 0.02},
        }

    kept_half = {"quantile": 0.25, "acceptance": 0.5}
    rows = [row(None, 1.0, 0.64, 0.91), row(0.5, 2.0, 0.85, 0.40), row(None, 0.9, 0.70, 0.88, kept_half)]
    table = truncation.report({"samples": 2000, "rows": rows})
    assert "floors (real vs real): FID 0.500, precision 0.900, recall 0.890" in table
    assert "| none (as trained) | 1.000 | 2.00 | 0.640 | 0.910 | 10 | 0.010 |" in table
    assert "| ±0.5 | 2.000 | 4.00 | 0.850 | 0.400 | 10 | 0.010 |" in table
    filtered = table.split("Filtered")[1]  # filtered rows sit apart from the unfiltered ones
    assert "| 0.25 | 50 % | 0.900 | 1.80 | 0.700 | 0.880 | 10 | 0.010 |" in filtered
    assert "0.700" not in table.split("Filtered")[0]
