"""Reading two-digit canvases back: real canvases read as their captions say; swapped digits,
the other axis and blank canvases read as wrong."""

from __future__ import annotations

import torch

from gan_lightning.mnist import MNISTTwoDigitCaptionsDataModule
from gan_lightning.mnist.two_digit_reading import half_sizes, two_digit_scores
from gan_lightning.mnist.two_digits import slots


def means(scores: dict[str, torch.Tensor]) -> dict[str, float]:
    return {name: float(value.nanmean()) for name, value in scores.items()}


def test_real_canvases_read_high_and_swapped_digits_read_as_the_wrong_relation(
    two_digit_canvases: MNISTTwoDigitCaptionsDataModule,
):
    batch = next(iter(two_digit_canvases.val_dataloader()))
    layout = two_digit_canvases.layout
    scores, features = two_digit_scores(batch["image"], batch, layout)
    assert features.shape == (400, 64)  # both windows of 200 canvases
    real = means(scores)
    assert real["both_digits"] >= 0.85 and real["relation"] >= 0.97 and real["size"] >= 0.97, real
    assert real["both_digits"] <= min(real["first_digit"], real["second_digit"])
    same = batch["digits"][:, 0] == batch["digits"][:, 1]
    assert scores["relation"].isnan().equal(same) and same.any()  # no order to read in "a 3 above a 3"
    assert scores["size"].isnan().equal(batch["sizes"] < 0)
    swapped = means(two_digit_scores(batch["image"], dict(batch, relation=batch["relation"] ^ 1), layout)[0])
    assert swapped["relation"] <= 0.03 and swapped["both_digits"] < 0.2, swapped  # the same digits, swapped places
    other_axis = means(two_digit_scores(batch["image"], dict(batch, relation=batch["relation"] ^ 2), layout)[0])
    assert other_axis["both_digits"] < 0.1, other_axis  # side by side read as stacked: halves of both digits
    blank = means(two_digit_scores(torch.full_like(batch["image"], -1.0), batch, layout)[0])
    assert blank["both_digits"] < 0.05 and blank["first_digit"] < 0.25, blank


def test_the_size_is_read_in_each_digits_half(two_digit_canvases: MNISTTwoDigitCaptionsDataModule):
    held_out = two_digit_canvases.val_set
    layout = two_digit_canvases.layout
    images, truth, positions = [], [], []
    for index in range(50):
        _, sizes, _, _, attributes = held_out.draw(index)
        for position, size in zip(slots(int(attributes["relation"])), sizes.tolist(), strict=True):
            images.append(held_out[index]["image"])
            truth.append(size)
            positions.append(position)
    read = half_sizes(torch.stack(images), torch.tensor(positions), layout)
    assert (read == torch.tensor(truth)).float().mean() >= 0.97
