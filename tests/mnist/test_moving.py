"""Moving MNIST (Srivastava et al. 2015): a clip is a function of seed and index, digits bounce
and stay whole inside the canvas, held-out clips use held-out digits only."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import default_collate

from gan_lightning.mnist.clip_reading import read_clip_digits
from gan_lightning.mnist.moving import bounce
from tests.conftest import CLIP_CANVAS as CANVAS
from tests.conftest import CLIP_DIGIT as DIGIT
from tests.conftest import CLIP_FRAMES as FRAMES
from tests.conftest import tiny_moving_mnist


def test_a_clip_is_a_function_of_seed_and_index():
    first, again = tiny_moving_mnist(), tiny_moving_mnist()
    first.setup(), again.setup()
    assert torch.equal(first.train_set[5]["video"], again.train_set[5]["video"])
    assert torch.equal(first.val_set[3]["video"], again.val_set[3]["video"])
    assert not torch.equal(first.train_set[5]["video"], first.train_set[6]["video"])
    other = tiny_moving_mnist(seed=1)
    other.setup()
    assert not torch.equal(first.train_set[5]["video"], other.train_set[5]["video"])


def test_digits_bounce_and_stay_whole_inside_the_canvas():
    data = tiny_moving_mnist(speed=(2.0, 3.5), num_frames=24, train_clips=32)  # fast: many bounces
    data.setup()
    clips = default_collate([data.train_set[i] for i in range(32)])["video"]
    assert clips.shape == (32, 1, 24, CANVAS, CANVAS) and clips.min() >= -1 and clips.max() <= 1
    ink = (clips + 1).sum(dim=(1, 3, 4))  # (B, T): a digit cut by an edge would lose ink
    assert torch.allclose(ink, ink[:, :1].expand_as(ink), rtol=1e-5)
    positions = bounce(torch.tensor([3.5]), torch.tensor([1.0]), 6, limit=4.0)
    assert positions.flatten().tolist() == [3.5, 3.5, 2.5, 1.5, 0.5, 0.5]  # reflected at both walls
    path = bounce(torch.rand(100, 2) * 4, (torch.rand(100, 2) * 2 - 1) * 3.9, 50, limit=4.0)
    with pytest.raises(ValueError, match="slower than"):
        bounce(torch.zeros(1), torch.tensor([5.0]), 3, limit=4.0)
    assert path.min() >= 0 and path.max() <= 4


def test_held_out_clips_use_only_held_out_digits_and_labels_name_them():
    data = tiny_moving_mnist()
    data.setup()
    train, held_out = data.train_set.digits.flatten(1), data.val_set.digits.flatten(1)
    assert len(held_out) == 500 and len(train) == 4500
    assert not (torch.cdist(held_out, train).min(dim=1).values == 0).any()
    item = data.val_set[0]
    assert item["label"].dim() == 0
    digits, _ = read_clip_digits(item["video"].unsqueeze(0), DIGIT)
    two = tiny_moving_mnist(num_digits=2)
    two.setup()
    assert two.train_set[0]["label"].shape == (2,)
    assert digits.shape == (1, FRAMES)


@pytest.mark.parametrize(
    "bad", [{"digit_size": 40}, {"num_digits": 3}, {"speed": (1.0, 9.0)}, {"channels": 2}, {"num_frames": 0}]
)
def test_bad_moving_mnist_settings_are_clear_errors(bad: dict[str, Any]):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_moving_mnist(**bad)
