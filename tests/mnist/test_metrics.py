"""The MNIST demos' held-out scores: the two-digit caption reading logs both digits, each digit,
the relation and size beside the real ceiling and an FID of the windows."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from gan_lightning.mnist import MNISTTwoDigitCaptionsDataModule, TwoDigitCaptionReading
from gan_lightning.mnist.two_digit_reading import two_digit_scores

NAMES = ("both_digits", "first_digit", "second_digit", "relation", "size")


def task_with(data: object) -> SimpleNamespace:
    return SimpleNamespace(trainer=SimpleNamespace(datamodule=data))


def test_two_digit_reading_scores_images_against_the_real_ceiling(two_digit_canvases: MNISTTwoDigitCaptionsDataModule):
    task = task_with(two_digit_canvases)
    batch = next(iter(two_digit_canvases.val_dataloader()))
    metric = TwoDigitCaptionReading()
    for part in (slice(0, 100), slice(100, 200)):  # two held-out batches, gathered once
        small = {name: value[part] for name, value in batch.items()}
        assert metric.update(task, small, {"images": small["image"]}) == {}
    copies = metric.compute(task)
    assert set(copies) == {f"{p}{name}_accuracy" for name in NAMES for p in ("", "real_")} | {"fid"}
    expected, _ = two_digit_scores(batch["image"], batch, two_digit_canvases.layout)
    for name in NAMES:  # the whole set's mean, not a mean of batch means
        assert float(copies[f"{name}_accuracy"]) == pytest.approx(float(expected[name].nanmean()))
        assert float(copies[f"real_{name}_accuracy"]) == float(copies[f"{name}_accuracy"])
    assert float(copies["real_both_digits_accuracy"]) >= 0.85 and abs(float(copies["fid"])) < 1e-3
    assert metric.compute(task) == {}  # the tally starts afresh each validation
    metric.update(task, batch, {"images": torch.full_like(batch["image"], -1.0)})
    blank = metric.compute(task)
    assert float(blank["both_digits_accuracy"]) < 0.05 and float(blank["fid"]) > 10 * float(copies["fid"]) + 1


def test_two_digit_reading_needs_the_two_digit_canvas_and_attributes(
    two_digit_canvases: MNISTTwoDigitCaptionsDataModule, canvases
):
    batch = next(iter(two_digit_canvases.val_dataloader()))
    outputs = {"images": batch["image"]}
    with pytest.raises(ValueError, match="missing \\['relation'\\]"):
        TwoDigitCaptionReading().update(
            task_with(two_digit_canvases), {k: v for k, v in batch.items() if k != "relation"}, outputs
        )
    with pytest.raises(ValueError, match="MNISTTwoDigitCaptionsDataModule"):
        TwoDigitCaptionReading().update(task_with(canvases), batch, outputs)  # the one-digit layout
    with pytest.raises(ValueError, match="MNISTTwoDigitCaptionsDataModule"):
        TwoDigitCaptionReading().update(SimpleNamespace(trainer=None), batch, outputs)
