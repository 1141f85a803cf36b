"""MixtureStatistics on 2D mixtures: the PacGAN-protocol statistics logged at validation and
printed at the end, unfiltered first and then through each rejection filter (threshold, DRS),
with the raw generator scored by D in eval mode and the training RNG and networks left alone."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.callbacks import MixtureStatistics
from gan_lightning.data import Ring2DDataModule
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.sampling import Rejection
from gan_lightning.sampling.rejection import RejectionError
from gan_lightning.tasks import GAN


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
