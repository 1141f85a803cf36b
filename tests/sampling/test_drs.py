"""Discriminator Rejection Sampling (Azadi et al. 2019, Alg. 1): F̂, the burn-in, the
acceptance step, and fine-tuning a copy of D. The filter that applies it: test_filters.py."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_lightning.sampling import drs_sample, fine_tune
from gan_lightning.sampling.drs import Acceptance, BurnIn, acceptance_probability, burn_in, drs_logit, running_max

EPS = 1e-6


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_f_hat_and_acceptance_on_a_hand_worked_logit(gamma):
    """F = log 2, D*_M = 4: F − log D*_M = log ½, so F̂ = log 2 − log 4 − log(1 − ½·e^{−ε}) − γ."""
    expected = math.log(2) - math.log(4) - math.log(1 - 0.5 * math.exp(-EPS)) - gamma
    value = drs_logit(torch.tensor([math.log(2)], dtype=torch.float64), math.log(4), gamma, EPS)
    assert value.item() == pytest.approx(expected, abs=1e-12)
    assert acceptance_probability(
        torch.tensor([math.log(2)], dtype=torch.float64), math.log(4), gamma
    ).item() == pytest.approx(sigmoid(expected), abs=1e-12)
    if gamma == 0.0:  # γ = 0 is exact rejection sampling: accept p_data/(M·p_g) = 2/4
        assert sigmoid(expected) == pytest.approx(0.5, abs=1e-6)


def test_f_hat_at_the_maximum_is_finite_thanks_to_epsilon():
    at_max = drs_logit(torch.tensor([3.0]), 3.0, 0.0, EPS).item()
    assert at_max == pytest.approx(-math.log(1 - math.exp(-EPS)), rel=1e-9)  # ≈ log(1/ε) = 13.8
    assert at_max == pytest.approx(13.8155, abs=1e-3)


def test_burn_in_takes_the_max_logit_and_gamma_at_the_chosen_quantile():
    logits = torch.tensor([0.0, 3.0, 1.0, 2.0])
    assert burn_in(logits, None) == BurnIn(max_logit=3.0, gamma=0.0, samples=4)
    lowest = (0.0 - 3.0) - math.log(1 - math.exp(-3.0 - EPS))  # F̂|γ=0 of the smallest logit
    assert burn_in(logits, 0.0).gamma == pytest.approx(lowest, abs=1e-12)
    assert burn_in(logits, 1.0).gamma == pytest.approx(-math.log(1 - math.exp(-EPS)), rel=1e-9)
    with pytest.raises(ValueError, match="gamma_quantile"):
        burn_in(logits, 95)


def test_the_bound_is_raised_by_a_sample_that_exceeds_it_from_that_sample_on():
    assert running_max(torch.tensor([-1.0, 2.0, 1.0, 3.0]), start=0.0).tolist() == [0.0, 2.0, 2.0, 3.0]
    accept = Acceptance(lambda x: x[:, 0], BurnIn(max_logit=0.0, gamma=0.0, samples=1), EPS, seed=0)
    accept(torch.tensor([[-1.0], [2.0], [1.0]]))
    assert accept.max_logit == 2.0  # the next batch starts from the raised bound


def test_acceptance_coins_come_from_their_own_seeded_generator():
    batch = torch.zeros(1000, 1)
    first = Acceptance(lambda x: x[:, 0], BurnIn(0.0, 0.0, 1), EPS, seed=5)(batch)
    again = Acceptance(lambda x: x[:, 0], BurnIn(0.0, 0.0, 1), EPS, seed=5)(batch)
    assert torch.equal(first, again)
    coins = torch.rand(1000, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    expected = coins < acceptance_probability(torch.zeros(1000), 0.0)  # F = max: p ≈ 1 − ε
    assert torch.equal(first, expected)


def gaussian_proposal(seed: int):
    """G = N(0, 2²) and the exact log density ratio of data N(0, 1) against it."""
    generator = torch.Generator().manual_seed(seed)

    def sample(num: int) -> torch.Tensor:
        return 2.0 * torch.randn(num, 1, generator=generator)

    def log_ratio(x: torch.Tensor) -> torch.Tensor:  # log N(x; 0, 1) − log N(x; 0, 4) = log 2 − 3x²/8
        return math.log(2.0) - 3.0 * x[:, 0] ** 2 / 8.0

    return sample, log_ratio


def test_drs_with_the_exact_density_ratio_recovers_the_data_distribution():
    sample, log_ratio = gaussian_proposal(seed=1)
    result = drs_sample(sample, log_ratio, num=20_000, gamma_quantile=None, seed=0)
    kept = result.samples[:, 0]
    assert kept.std().item() == pytest.approx(1.0, abs=0.03)  # the data's std, not G's 2
    assert kept.mean().item() == pytest.approx(0.0, abs=0.03)
    assert (kept.abs() < 1.0).float().mean().item() == pytest.approx(0.6827, abs=0.015)  # the 1σ mass of N(0, 1)
    assert result.acceptance == pytest.approx(0.5, abs=0.02)  # 1/M, M = max p_data/p_g = 2
    assert result.burn_in == 10_000 and result.extra_draws == pytest.approx(1.0, abs=0.08)


def test_a_positive_gamma_sharpens_beyond_the_data_distribution():
    """The paper's γ (here the 80th percentile of F̂ over the burn-in) trades exactness for
    precision: the kept samples concentrate where the ratio peaks, at a lower acceptance."""
    sample, log_ratio = gaussian_proposal(seed=1)
    result = drs_sample(sample, log_ratio, num=5_000, seed=0)
    assert 0.55 < result.samples.std().item() < 0.75
    assert 0.2 < result.acceptance < 0.3


def test_drs_leaves_the_global_rng_alone_and_repeats_itself():
    state = torch.get_rng_state()
    first = drs_sample(*gaussian_proposal(seed=2), num=500, burn_in_samples=1000, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    again = drs_sample(*gaussian_proposal(seed=2), num=500, burn_in_samples=1000, seed=3)
    assert torch.equal(first.samples, again.samples) and first.drawn == again.drawn


def test_drs_fails_clearly_when_nothing_is_accepted():
    def score(x):  # the burn-in saw 0; every later sample scores far below
        return torch.where(x[:, 0] == 0, 0.0, -100.0)

    draws = iter([torch.zeros(5, 1)] + [torch.ones(5, 1)] * 10)
    with pytest.raises(RuntimeError, match="lower gamma_quantile"):
        drs_sample(lambda n: next(draws), score, num=5, burn_in_samples=5, gamma_quantile=None, max_draws=3)


def test_fine_tuning_a_copy_of_d_reaches_the_log_density_ratio():
    """Data N(1, 1) vs G = N(0, 1): log p_data/p_g = x − ½, so a linear D's optimum is
    weight 1, bias −½. The original D is not changed; the global RNG is not touched."""
    discriminator = nn.Linear(1, 1)
    before = [p.detach().clone() for p in discriminator.parameters()]
    real_noise, fake_noise = torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)
    state = torch.get_rng_state()
    tuned = fine_tune(
        discriminator,
        real=lambda n: 1.0 + torch.randn(n, 1, generator=real_noise),
        fake=lambda n: torch.randn(n, 1, generator=fake_noise),
        steps=600,
        batch_size=512,
        lr=0.05,
    )
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(a, b) for a, b in zip(before, discriminator.parameters(), strict=True))
    assert tuned.weight.item() == pytest.approx(1.0, abs=0.1) and tuned.bias.item() == pytest.approx(-0.5, abs=0.1)
    assert not tuned.training and not tuned.weight.requires_grad
