"""benchmarks/stacked_mnist.py: the report shows the seeds, the published rows and the floor."""

from __future__ import annotations


def test_benchmark_report_shows_seeds_published_rows_and_floor():
    from benchmarks.stacked_mnist import report, summarize

    runs = [
        {"config": "pacgan2", "seed": seed, "modes": modes, "kl": kl, "iterations": 4000, "train_seconds": 600.0}
        for seed, modes, kl in ((0, 1000, 0.05), (1, 998, 0.07))
    ]
    runs[0]["sample_grid"] = "docs/images/stacked_mnist_pacgan2.png"
    results = {
        "num_samples": 26_000,
        "real_floor": {"train": {"modes": 1000, "kl": 0.021, "reader_accuracy": 0.98}},
        "summary": summarize(runs),
        "runs": runs,
    }
    assert results["summary"]["pacgan2"]["modes"]["mean"] == 999
    table = report(results)
    assert "999.0 ± 1.0" in table and "0.060 ± 0.010" in table
    assert "s0: 1000 / 0.050, s1: 998 / 0.070" in table
    assert "PacDCGAN2 (PacGAN Table 2) | 1000.0 ± 0.00 | 0.06 ± 0.003" in table
    assert (
        "train digits (the reader's floor) | 1000 | 0.021 |" in table
        and "seed 0](docs/images/stacked_mnist_pacgan2.png)" in table
    )
