"""benchmarks/second_reader.py: the second digit reader learns, and its shifts keep the digits."""

from __future__ import annotations

import torch

from benchmarks.second_reader import AllConvReader, read_rate, shifted, train_second_reader


def test_shifts_move_the_image_and_pad_with_background():
    image = torch.full((1, 1, 8, 8), -1.0)
    image[0, 0, 3:5, 3:5] = 1.0
    moved = shifted(image.repeat(64, 1, 1, 1), torch.Generator().manual_seed(0))
    assert moved.shape == (64, 1, 8, 8)
    assert set(moved.unique().tolist()) == {-1.0, 1.0}
    assert (moved == 1).sum(dim=(1, 2, 3)).eq(4).all()  # a 2-px shift keeps this centred square whole
    assert len({tuple(map(tuple, (m[0] == 1).nonzero().tolist())) for m in moved}) > 5  # and moves it around


def test_the_reader_learns_classes_it_is_trained_on_and_is_seeded():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (256,), generator=generator)
    images = torch.full((256, 1, 8, 8), -1.0)
    images[labels == 0, :, :, :4] = 1.0  # class 0: bright left half, class 1: bright right half
    images[labels == 1, :, :, 4:] = 1.0
    first = train_second_reader((images, labels), seed=1, steps=40, batch_size=32)
    assert isinstance(first, AllConvReader) and not first.training
    assert read_rate(first, images, labels) == 1.0
    assert read_rate(first, images, 1 - labels) == 0.0
    again = train_second_reader((images, labels), seed=1, steps=40, batch_size=32)
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
