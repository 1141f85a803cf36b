"""2D Gaussian mixtures, the PacGAN-protocol metrics, and scatter-plot sample images."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image

from gan_lightning.callbacks import MixtureStatistics, SampleGrid
from gan_lightning.callbacks.scatter import scatter_image
from gan_lightning.data import GaussianMixture2DDataModule, Grid2DDataModule, Ring2DDataModule
from gan_lightning.data.toy2d import grid_modes, ring_modes
from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.sampling import Rejection
from gan_lightning.sampling.rejection import RejectionError, real_score_threshold, rejection_sample
from gan_lightning.tasks import GAN


def test_mixtures_match_the_protocol():
    ring = ring_modes()
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=1), torch.ones(8))
    assert torch.allclose(ring[2], torch.tensor([0.0, 1.0]), atol=1e-6)  # (cos 2π·2/8, sin 2π·2/8)
    grid = grid_modes()
    assert grid.shape == (25, 2)
    assert set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0} == set(grid[:, 1].tolist())
    assert Ring2DDataModule().std == 0.01 and Grid2DDataModule().std == 0.05


@pytest.mark.parametrize("layout", ["ring", "grid"])
def test_datamodule_draws_each_point_near_its_labelled_mode(layout):
    data = GaussianMixture2DDataModule(layout, num_samples=4_000, batch_size=100, val_size=1_000, seed=3)
    data.setup()
    points, labels = data.train_set.tensors
    assert points.shape == (3_000, 2) and labels.max() < len(data.modes)
    offsets = points - data.modes[labels]
    assert abs(offsets.std().item() - data.std) < 0.1 * data.std
    assert torch.bincount(labels, minlength=len(data.modes)).min() > 0  # every mode present
    again = GaussianMixture2DDataModule(layout, num_samples=4_000, batch_size=100, val_size=1_000, seed=3)
    again.setup()
    assert torch.equal(again.train_set.tensors[0], points)  # seeded: the same data every run


def test_unknown_layout_is_rejected():
    with pytest.raises(ValueError, match="layout"):
        GaussianMixture2DDataModule("spiral")


def test_perfect_samples_cover_every_mode_with_zero_reverse_kl():
    modes = ring_modes()
    samples = modes.repeat(10, 1) + 0.001
    stats = mode_statistics(samples, modes, std=0.01)
    assert stats.modes_covered == 8
    assert stats.high_quality_fraction == 1.0
    assert stats.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert stats.counts == (10,) * 8


def test_collapse_onto_one_mode_has_reverse_kl_log_k():
    modes = grid_modes()
    stats = mode_statistics(modes[7].expand(100, 2), modes, std=0.05)
    assert stats.modes_covered == 1
    assert stats.reverse_kl == pytest.approx(math.log(25))


def test_high_quality_threshold_is_three_standard_deviations():
    modes = ring_modes()
    std = 0.01
    inside = modes[:4] + torch.tensor([2.9 * std, 0.0])  # 2.9σ from modes 0-3
    outside = modes[4:] + torch.tensor([0.0, 3.1 * std])  # 3.1σ from modes 4-7
    stats = mode_statistics(torch.cat([inside, outside]), modes, std=std)
    assert stats.high_quality_fraction == 0.5
    assert stats.modes_covered == 4  # low-quality samples do not cover their mode
    # the histogram is over high-quality samples: uniform over 4 of 8 modes → KL = log 2
    assert stats.reverse_kl == pytest.approx(math.log(2))


def test_metrics_reject_bad_input():
    modes = ring_modes()
    with pytest.raises(ValueError, match="same D"):
        mode_statistics(torch.zeros(10, 3), modes, std=0.01)
    with pytest.raises(ValueError, match="NaN"):
        mode_statistics(torch.full((4, 2), float("nan")), modes, std=0.01)
    with pytest.raises(ValueError, match="positive"):
        mode_statistics(torch.zeros(4, 2), modes, std=0.0)
    nothing_good = mode_statistics(torch.full((4, 2), 10.0), modes, std=0.01)
    assert nothing_good.modes_covered == 0 and nothing_good.reverse_kl == math.inf


def test_scatter_image_is_an_rgb_tensor_with_points_drawn():
    blank = scatter_image(torch.zeros(0, 2), ring_modes())
    drawn = scatter_image(torch.randn(500, 2), ring_modes())
    assert drawn.shape[0] == 3 and drawn.min() >= 0.0 and drawn.max() <= 1.0
    assert (drawn - blank).abs().sum() > 0
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scatter_image(torch.zeros(5, 3))


def test_sample_grid_writes_a_scatter_plot_for_2d_data(make_trainer, tmp_path):
    model = GAN(
        MLPGenerator(data_shape=[2], latent_dim=4, hidden_dims=[16], output="linear"),
        MLPDiscriminator(data_shape=[2], hidden_dims=[16]),
        num_fixed=32,
    )
    grid = SampleGrid()
    trainer = make_trainer(max_steps=2, callbacks=[grid])
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    assert grid.last_path is not None and grid.last_path.exists()
    image = Image.open(grid.last_path)
    assert image.mode == "RGB" and min(image.size) > 100  # a plot, not an 8×8 grid of 2-vectors


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


def test_rejection_sampling_keeps_only_points_scored_above_the_threshold_and_counts_draws():
    stream = iter(torch.arange(100.0).view(-1, 1).split(4))  # 0..99, batches of 4

    result = rejection_sample(lambda n: next(stream), lambda x: x[:, 0] % 2, num=4, threshold=1.0)
    assert result.samples.flatten().tolist() == [1.0, 3.0, 5.0, 7.0]  # odd points only
    assert result.drawn == 8 and result.acceptance == 0.5  # up to the last point kept, 7


def test_rejection_sampling_fails_clearly_when_nothing_passes():
    with pytest.raises(RuntimeError, match="lower the rejection quantile"):
        rejection_sample(lambda n: torch.zeros(n, 2), lambda x: x[:, 0], num=5, threshold=1.0, max_draws=3)


def test_real_score_threshold_is_a_quantile_of_the_real_scores():
    assert real_score_threshold(torch.arange(101.0), 0.1) == pytest.approx(10.0)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        real_score_threshold(torch.arange(5.0), 1.0)


def tiny_2d_gan() -> GAN:
    return GAN(
        MLPGenerator(data_shape=[2], latent_dim=4, hidden_dims=[16], output="linear"),
        MLPDiscriminator(data_shape=[2], hidden_dims=[16]),
    )


@pytest.mark.parametrize(
    "rejection", [None, Rejection(method="threshold", quantile=0.05), Rejection(burn_in=500, fine_tune_steps=5)]
)
def test_mixture_statistics_are_logged_at_validation_and_printed_at_the_end(make_trainer, capsys, rejection):
    statistics = MixtureStatistics(num_samples=200, rejection=rejection)
    trainer = make_trainer(max_steps=2, val_check_interval=2, callbacks=[statistics])
    model = tiny_2d_gan()
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    logged = trainer.callback_metrics
    assert {"val/modes_covered", "val/high_quality", "val/reverse_kl"} <= set(logged)
    assert 0.0 <= statistics.final["high_quality"] <= 1.0 and 0 <= statistics.final["modes_covered"] <= 8
    printed = capsys.readouterr().out
    assert "Mode statistics at iteration 2" in printed and "modes covered" in printed and "/ 8" in printed
    assert ("acceptance" in statistics.final) == (rejection is not None)
    if rejection is not None and statistics.final["rejected"]:
        assert 0.0 < statistics.final["acceptance"] <= 1.0 and "kept" in printed
    # the scored samples are the sampling generator's, from fixed noise: the same numbers again
    assert statistics.compute(trainer, model) == statistics.final


def test_mixture_statistics_print_the_unfiltered_statistics_first_and_label_the_filtered(make_trainer, capsys):
    unfiltered = {"modes_covered": 8.0, "high_quality": 0.917, "reverse_kl": 0.002}
    filtered = {"filtered_modes_covered": 7.0, "filtered_high_quality": 0.986, "filtered_reverse_kl": 0.001}
    statistics = MixtureStatistics(rejection=Rejection(method="threshold", quantile=0.01))
    statistics.final = unfiltered | filtered | {"acceptance": 0.92, "extra_draws": 0.087, "rejected": 1.0}
    trainer = make_trainer(max_steps=1)
    trainer.datamodule = Ring2DDataModule()
    lines = statistics.lines(trainer, tiny_2d_gan())
    text = "\n".join(lines)
    assert text.index("91.7 %") < text.index("filtered through D") < text.index("98.6 %")
    assert "unfiltered, as sampled (EMA generator" in lines[2]
    assert "D threshold at the real scores' 1 % quantile, raw G, D as trained" in text
    assert lines[-1].startswith("acceptance      kept 92.0 % of the samples drawn (+0.09 draws per kept sample)")
    assert "modes covered   7 / 8" in text and "modes covered   8 / 8" in text


def test_mixture_statistics_filter_the_raw_generator_scored_by_d_in_eval_mode_without_augmentation(make_trainer):
    """The filter draws from the generator D was trained against (raw, not the EMA) and scores
    with D's eval-mode logit, not through the training augmentation."""
    seen = {}

    class Spy(Rejection):
        def filter(self, sample, score, num, real):
            seen.update(first=sample(50), score=score)
            return super().filter(sample, score, num, real)

    class Shift(torch.nn.Module):  # an "augmentation" that would change every score
        def forward(self, x):
            return x + 100.0

    statistics = MixtureStatistics(num_samples=100, rejection=Spy(method="threshold", quantile=0.0), seed=4)
    model = tiny_2d_gan()
    trainer = make_trainer(max_steps=3, limit_val_batches=0, callbacks=[statistics])
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    model.augment = Shift()
    statistics.compute(trainer, model)
    raw = model.sample(50, use_ema=False, generator=torch.Generator().manual_seed(5))  # the filter's noise: seed + 1
    ema = model.sample(50, use_ema=True, generator=torch.Generator().manual_seed(5))
    assert not torch.allclose(raw, ema)  # three updates: the EMA differs from the raw generator
    assert torch.equal(seen["first"], raw)
    points = torch.randn(20, 2)
    assert torch.equal(seen["score"](points), model.discriminator.eval()(points).flatten())


def test_drs_in_mixture_statistics_refuses_a_critic_unless_d_is_fine_tuned(make_trainer):
    model = GAN(
        MLPGenerator(data_shape=[2], latent_dim=4, hidden_dims=[16], output="linear"),
        MLPDiscriminator(data_shape=[2], hidden_dims=[16]),
        WassersteinLoss(),
    )
    trainer = make_trainer(max_steps=1, limit_val_batches=0, callbacks=[MixtureStatistics(rejection=Rejection())])
    with pytest.raises(ValueError, match="logistic D, not for WassersteinLoss: set rejection fine_tune_steps > 0"):
        trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    tuned = MixtureStatistics(num_samples=50, rejection=Rejection(fine_tune_steps=2, burn_in=100))
    trainer = make_trainer(max_steps=1, limit_val_batches=0, callbacks=[tuned])
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    assert tuned.final is not None


def test_mixture_statistics_reject_data_without_modes_before_training(make_trainer, make_gan, tiny_data):
    trainer = make_trainer(max_steps=1, limit_val_batches=0, callbacks=[MixtureStatistics()])
    with pytest.raises(ValueError, match="GaussianMixture2DDataModule"):
        trainer.fit(make_gan(), tiny_data)
    assert trainer.global_step == 0


def test_rejection_improves_precision_when_d_scores_the_data_above_the_gaps():
    """A D that scores by closeness to the modes removes the between-mode samples."""
    modes = ring_modes()
    near = modes.repeat(50, 1) + 0.005 * torch.randn(400, 2)
    between = 0.5 * (modes + modes.roll(1, dims=0)).repeat(50, 1)  # midpoints: never high quality
    pool = iter(torch.cat([near, between])[torch.randperm(800)].split(200))

    def score(points):
        return -torch.cdist(points, modes).min(dim=1).values

    threshold = real_score_threshold(score(modes.repeat(10, 1) + 0.01 * torch.randn(80, 2)), 0.01)
    kept = rejection_sample(lambda n: next(pool), score, num=300, threshold=threshold)
    assert mode_statistics(kept.samples, modes, std=0.01).high_quality_fraction == 1.0
    assert 0.4 < kept.acceptance < 0.6


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


def test_mixture_statistics_report_no_filtered_numbers_when_d_rejects_nearly_everything(make_trainer, capsys):
    """A smoke run's D rejects every sample of its untrained G: the run still ends with the
    unfiltered statistics, and says there are no filtered ones."""

    class RejectsAll(Rejection):
        def filter(self, sample, score, num, real):
            raise RejectionError("nothing passed", accepted=3, drawn=250_000)

    statistics = MixtureStatistics(num_samples=200, rejection=RejectsAll(method="threshold"))
    trainer = make_trainer(max_steps=2, limit_val_batches=0, callbacks=[statistics])
    trainer.fit(tiny_2d_gan(), Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    assert statistics.final["rejected"] == 0.0 and statistics.final["acceptance"] == pytest.approx(3 / 250_000)
    assert "filtered_high_quality" not in statistics.final and "high_quality" in statistics.final
    assert "filtered        none: D threshold" in capsys.readouterr().out


def test_mixture_statistics_with_drs_leave_the_global_rng_and_the_networks_alone(make_trainer):
    """DRS with a fine-tuned copy of D draws only from its own seeded generators: the global
    RNG (training's) and the module's weights are as before."""
    statistics = MixtureStatistics(num_samples=100, rejection=Rejection(burn_in=300, fine_tune_steps=3))
    model = tiny_2d_gan()
    trainer = make_trainer(max_steps=2, limit_val_batches=0, callbacks=[statistics])
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    state = torch.get_rng_state()
    again = statistics.compute(trainer, model)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())
    assert again == statistics.final and again["rejected"] in (0.0, 1.0)
