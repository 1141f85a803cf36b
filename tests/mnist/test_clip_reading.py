"""Reading digits back from generated clips: the share of frames agreeing with the majority, on
real Moving MNIST clips."""

from __future__ import annotations

import torch

from gan_lightning.mnist import clip_statistics
from gan_lightning.mnist.clip_reading import consistency, read_clip_digits
from tests.conftest import tiny_moving_mnist


def test_consistency_is_the_share_of_frames_agreeing_with_the_majority():
    assert consistency(torch.tensor([[3, 3, 8, 3], [1, 1, 1, 1]])).tolist() == [0.75, 1.0]
    data = tiny_moving_mnist(canvas=32, digit_size=20, num_frames=8)
    data.setup()
    item = data.val_set[0]
    repeated = item["video"][:, :1].expand(-1, 8, -1, -1).unsqueeze(0)  # one digit, held still
    stats = clip_statistics(repeated, 20)
    assert stats.consistency == 1.0 and stats.motion_mean == 0.0 and stats.static_fraction == 1.0
    digits, _ = read_clip_digits(item["video"].unsqueeze(0), 20)
    assert (digits == item["label"]).float().mean() >= 0.75  # the reading window finds the moving digit
