"""benchmarks/toy2d.py: seed-batched networks keep the seeds apart, each seed is scored by its own
discriminator, and the report shows unfiltered numbers first and each filter in its own columns."""

from __future__ import annotations

import math

import torch

from gan_lightning.tasks import GAN


def test_seed_batched_networks_of_the_benchmark_keep_the_seeds_apart():
    """benchmarks/toy2d.py trains S seeds side by side: member s must see only rows of slice s."""
    from benchmarks.toy2d import SeedBatchedDiscriminator

    discriminator = SeedBatchedDiscriminator(members=3, in_features=2, hidden=[5])
    x = torch.randn(12, 2)
    scores = discriminator(x)
    changed = x.clone()
    changed[4:8] += 1.0  # only member 1's slice
    new_scores = discriminator(changed)
    assert torch.equal(scores[:4], new_scores[:4]) and torch.equal(scores[8:], new_scores[8:])
    assert not torch.equal(scores[4:8], new_scores[4:8])
    first, second = discriminator.net[0], discriminator.net[2]
    member = torch.nn.functional.leaky_relu(x[4:8] @ first.weight[1] + first.bias[1], 0.2) @ second.weight[1]
    assert torch.allclose(scores[4:8], (member + second.bias[1]).flatten(), atol=1e-6)


def test_benchmark_report_shows_the_unfiltered_numbers_first_and_the_filters_in_their_own_columns():
    from benchmarks.toy2d import report

    seed = {"modes_covered": 8.0, "high_quality_fraction": 0.99, "reverse_kl": 0.01}
    result = {
        "name": "gan_r1",
        "layout": "ring",
        "steps": 5000,
        "seconds": 60.0,
        "load_average": 2.0,
        "per_seed": [seed, seed | {"high_quality_fraction": 0.97}],
        "variants": {
            "plain": [seed, seed | {"high_quality_fraction": 0.97}],
            "truncation 0.8": [seed | {"reverse_kl": math.inf}, seed],
            "rejection 0.01": [seed | {"acceptance": 0.8}] * 2,
            "threshold 0.01": [seed | {"acceptance": 0.9, "extra_draws": 0.11}] * 2,
            "drs": [seed | {"high_quality_fraction": 0.995, "acceptance": 0.5, "extra_draws": 1.0}] * 2,
            "drs ft500": [seed | {"acceptance": 0.25, "extra_draws": 3.0}] * 2,
        },
        "points_seed0": {"plain": [[1.0, 0.0]]},
        "quick": True,
    }
    text = report({"results": [result]})
    head = next(line for line in text.splitlines() if line.startswith("| config"))
    titles = [cell.strip() for cell in head.strip("|").split("|")]
    assert titles[4:7] == ["modes covered", "high quality %", "reverse KL"]  # unfiltered first
    assert titles[7:11] == [
        "latent 0.8·z, unfiltered",
        "**filtered**: D threshold 1 %, EMA G",
        "**filtered**: D threshold 1 %",
        "**filtered**: DRS",
    ]
    assert titles[11] == "**filtered**: DRS, D fine-tuned 500 steps"
    rows = [line for line in text.splitlines() if line.startswith("| `gan_r1`")]
    assert len(rows) == 1  # one row per config and layout
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[5] == "98.0±1.0" and "docs/images/toy2d_gan_r1_ring_quick.png" in cells[0] and "(quick)" in cells[0]
    assert "(1 of 2 seeds)" in cells[7]  # reverse KL is undefined for a seed without high-quality samples
    assert cells[8].endswith("kept 80±0 %, +0.25±0.00 draws per sample")  # extra draws from the acceptance
    assert cells[9].endswith("kept 90±0 %, +0.11±0.00 draws per sample")
    assert cells[10] == "8.0±0.0 · 99.5±0.0 · 0.010±0.000; kept 50±0 %, +1.00±0.00 draws per sample"
    assert "PacGAN4 (PacGAN)" in text and "VEEGAN" in text and "only numbers to set beside their rows" in text


def test_benchmark_report_marks_a_variant_a_config_lacks():
    from benchmarks.toy2d import table

    seed = {"modes_covered": 8.0, "high_quality_fraction": 0.9, "reverse_kl": 0.01}
    old = {"name": "a", "layout": "ring", "steps": 1, "seconds": 1.0, "per_seed": [seed]}
    new = old | {"name": "b", "variants": {"plain": [seed], "drs": [seed | {"acceptance": 0.5}]}}
    rows = [line for line in table({"results": [old, new]}).splitlines() if line.startswith("| `")]
    assert "| — |" in rows[0] and "kept 50 %" in rows[1]


def test_benchmark_scores_one_seed_of_a_seed_batched_gan_by_its_own_discriminator():
    from benchmarks.toy2d import SeedBatchedDiscriminator, SeedBatchedGenerator, member_slice

    members = 3
    model = GAN(SeedBatchedGenerator(members, 4, [8]), SeedBatchedDiscriminator(members, 2, [8]))
    sample, score = member_slice(model, members, member=1, num=5)
    points = torch.randn(5, 2)
    first, second = model.discriminator.net[0], model.discriminator.net[2]
    hidden = torch.nn.functional.leaky_relu(points @ first.weight[1] + first.bias[1], 0.2)
    assert torch.allclose(score(points), (hidden @ second.weight[1] + second.bias[1]).flatten(), atol=1e-6)
    assert sample(5).shape == (5, 2)
