"""The rejection filter a callback applies (threshold or DRS): D scored in eval mode with its mode
restored, the threshold option as the hard threshold of before, and its settings checked."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.sampling import Rejection, discriminator_logits
from gan_lightning.sampling.rejection import real_score_threshold, rejection_sample


def test_d_scores_in_eval_mode_and_its_mode_is_restored():
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 1)).train()
    points = torch.randn(64, 2)
    state = torch.get_rng_state()
    scores = discriminator_logits(discriminator)(points)
    assert torch.equal(torch.get_rng_state(), state)
    assert discriminator.training  # put back
    assert torch.equal(scores, discriminator.eval()(points).flatten().detach())  # no dropout: the eval forward


def test_the_threshold_option_is_the_hard_threshold_of_before():
    real = torch.arange(101.0).view(-1, 1)
    stream = iter(torch.arange(200.0).view(-1, 1).split(10))
    again = iter(torch.arange(200.0).view(-1, 1).split(10))
    score = lambda x: x[:, 0]  # noqa: E731
    filtered = Rejection(method="threshold", quantile=0.1).filter(lambda n: next(stream), score, 10, real)
    expected = rejection_sample(lambda n: next(again), score, 10, real_score_threshold(score(real), 0.1))
    assert filtered.samples.flatten().tolist() == list(range(10, 20)) == expected.samples.flatten().tolist()
    assert filtered.drawn == expected.drawn == 20


def test_rejection_settings_are_checked():
    with pytest.raises(ValueError, match="'threshold' or 'drs'"):
        Rejection(method="soft")
    with pytest.raises(ValueError, match="'raw' or 'ema'"):
        Rejection(generator="average")
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Rejection(method="threshold", quantile=1.5)
    assert Rejection().needs_logistic_d and not Rejection(fine_tune_steps=100).needs_logistic_d
    assert "DRS" in Rejection().describe() and "80th percentile" in Rejection().describe()
