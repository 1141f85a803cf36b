"""Mode statistics of 2D samples (the PacGAN protocol): modes covered, high-quality fraction
within three standard deviations, reverse KL."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.data.toy2d import grid_modes, ring_modes
from gan_lightning.metrics.toy2d import mode_statistics


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
