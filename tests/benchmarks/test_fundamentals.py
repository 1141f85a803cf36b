"""benchmarks/fundamentals/: the numbers it reports and the BENCHMARKS.md section it writes.

The experiments themselves take minutes (they run from benchmarks/); here only the
summaries are checked, on small hand-made results in the shape the experiments write."""

from __future__ import annotations

import math

import pytest

from benchmarks.fundamentals import EXPERIMENTS, report
from benchmarks.fundamentals.critic_loss import correlations
from benchmarks.fundamentals.equilibrium import distance_from_half
from benchmarks.fundamentals.vanishing import vanishing_ratio


def test_correlations_see_a_monotonic_but_curved_relation():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert correlations(x, [v**3 for v in x])["spearman"] == pytest.approx(1.0)
    assert correlations(x, [v**3 for v in x])["pearson"] < 1.0
    assert correlations(x, [-v for v in x])["pearson"] == pytest.approx(-1.0)


def test_distance_from_half_uses_only_the_last_tenth():
    rows = [{"D_real": 0.9, "D_fake": 0.1}] * 90 + [{"D_real": 0.6, "D_fake": 0.45}] * 10
    stats = distance_from_half(rows)
    assert stats["real"] == pytest.approx(0.1)
    assert stats["fake"] == pytest.approx(0.05)
    assert stats["real_std"] == pytest.approx(0.0)


def test_vanishing_ratio_is_ns_over_minimax_once_d_is_confident():
    rows = [{"grad_minimax": 1.0, "grad_non_saturating": 1.0}] * 2 + [
        {"grad_minimax": 0.5, "grad_non_saturating": 5.0}
    ] * 2
    assert vanishing_ratio(rows) == pytest.approx(10.0)


def tiny_results() -> dict[str, dict]:
    vanishing_rows = [
        {"d_step": s, "d_accuracy": a, "d_of_fake": p, "grad_minimax": m, "grad_non_saturating": n}
        for s, a, p, m, n in ((0, 0.5, 0.5, 1.0, 1.0), (10, 1.0, 0.1, 0.2, 1.8))
    ]
    curve = [{"iteration": 10 * i, "D_real": 0.5, "D_fake": 0.5} for i in range(10)]
    seeds = [
        {"modes_covered": 8, "high_quality_fraction": 0.5, "reverse_kl": 0.01},
        {"modes_covered": 0, "high_quality_fraction": 0.0, "reverse_kl": math.inf},
    ]
    losses = [{"iteration": 10, "d_loss": [1.3, 1.4], "g_loss": [0.7, 0.8]}]
    points = [
        {"step": 100 * i, "fid": 50.0 - i, "neg_train_d_loss": 10.0 - i, "neg_val_d_loss": 9.0 - i} for i in range(3)
    ]
    critic_run = {
        "seconds": 60.0,
        "points": points,
        "train_vs_fid": correlations([p["neg_train_d_loss"] for p in points], [p["fid"] for p in points]),
        "val_vs_fid": correlations([p["neg_val_d_loss"] for p in points], [p["fid"] for p in points]),
    }
    return {
        "vanishing": {"curves": {"G after 0 DCGAN iterations": vanishing_rows}, "seconds": 5, "quick": True},
        "equilibrium": {"runs": {"no R1": {"distance_from_half": distance_from_half(curve)}}, "seconds": 5},
        "instability": {"recipes": {"plain GAN": {"per_seed": seeds, "curve": losses, "seconds": 3.0}}},
        "critic_loss": {"runs": {"WGAN-GP": critic_run}, "loadavg": [2.0, 2.0, 2.0]},
    }


def test_report_has_a_table_and_figure_per_experiment_and_marks_quick_runs():
    markdown = report(tiny_results())
    for name, experiment in EXPERIMENTS.items():  # the quick result shows its own figure, never the reported one
        figure = experiment.FIGURE
        shown = figure.replace(".png", "_quick.png") if name == "vanishing" else figure
        assert f"(docs/images/{shown})" in markdown
    assert "(docs/images/vanishing_gradients.png)" not in markdown
    assert markdown.count("### ") == 4
    assert "**9.0×**" in markdown  # vanishing: 1.8 / 0.2
    assert "8 0" in markdown  # instability: modes per seed
    assert "1 of 2" in markdown  # reverse KL is finite on one seed of two
    assert markdown.count("quick run") == 1  # only the vanishing result is marked quick
    assert "load average 2.0" in markdown


def test_report_leaves_out_experiments_without_results():
    markdown = report({"vanishing": tiny_results()["vanishing"]})
    assert markdown.count("### ") == 1 and "critic_loss.png" not in markdown


@pytest.mark.slow
def test_instability_experiment_runs_end_to_end_and_scores_every_seed():
    """The quick experiment, as `python -m benchmarks.run --quick` runs it: every recipe trains
    and each of its seeds gets the protocol's statistics (a broken call into the 2D benchmark
    once failed only here)."""
    from benchmarks.fundamentals.instability import measure

    result = measure(quick=True)
    assert result["members"] == 3 and len(result["recipes"]) >= 2
    for recipe in result["recipes"].values():
        assert len(recipe["per_seed"]) == 3
        assert all(0 <= seed["modes_covered"] <= 8 for seed in recipe["per_seed"])
        assert recipe["curve"] and len(recipe["curve"][0]["d_loss"]) == 3
