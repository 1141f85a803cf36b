"""Clip scores: the name checked at once, the network built on first use; motion measured on
hand-made clips."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.metrics import (
    ClipScores,
)


def test_clip_scores_check_the_name_at_once_and_build_the_network_on_first_use():
    """Building the classifier draws its random initialisation: at construction (config time)
    that would move the training stream, so it waits for validation's forked stream."""
    state = torch.get_rng_state()
    metric = ClipScores(num_clips=4)
    assert torch.equal(torch.get_rng_state(), state) and metric.network is None
    assert not list(metric.state_dict())  # an instrument, not model state
    with pytest.raises(ValueError, match="Unknown feature network"):
        ClipScores(features="vgg")
