"""Clip scores: the name checked at once, the network built on first use; motion measured on
hand-made clips."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.metrics import (
    ClipScores,
)
from gan_lightning.metrics.video import clip_motion
from tests.conftest import moving_square


def test_clip_scores_check_the_name_at_once_and_build_the_network_on_first_use():
    """Building the classifier draws its random initialisation: at construction (config time)
    that would move the training stream, so it waits for validation's forked stream."""
    state = torch.get_rng_state()
    metric = ClipScores(num_clips=4)
    assert torch.equal(torch.get_rng_state(), state) and metric.network is None
    assert not list(metric.state_dict())  # an instrument, not model state
    with pytest.raises(ValueError, match="Unknown feature network"):
        ClipScores(features="vgg")


# ---------------------------------------------------------------------- metrics on hand-made clips
def test_a_static_clip_has_no_motion_and_a_moving_square_moves_its_speed():
    static = moving_square(6)[:, :, :1].expand(-1, -1, 6, -1, -1)
    assert clip_motion(static).item() == 0.0
    assert clip_motion(moving_square(6, step=1)).item() == pytest.approx(1.0)
    assert clip_motion(moving_square(6, step=2)).item() == pytest.approx(2.0)
    blank = torch.full((1, 1, 4, 8, 8), -1.0)
    assert clip_motion(blank).item() == 0.0  # no ink: centre of the canvas, not NaN
