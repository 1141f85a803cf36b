"""Rejection sampling with a hard threshold on D's score: only points above it are kept and the
draws counted, the threshold is a quantile of the real scores, and nothing passing is a clear error."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data.toy2d import ring_modes
from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.sampling.rejection import real_score_threshold, rejection_sample


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
