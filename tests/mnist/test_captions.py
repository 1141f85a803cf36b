"""MNIST captions (the text-to-image demo): captions that describe the composed canvas, thickness
relative to the digit's class, items fixed per index when held out and recomposed per training epoch."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.mnist import MNISTCaptionsDataModule, mnist5k_pixels
from gan_lightning.mnist.caption_reading import ink_extent, ink_mass
from gan_lightning.mnist.captions import DIGIT_WORDS, NOT_SAID, POSITIONS, boxed_digits, caption_class, thickness_labels


def test_captions_describe_the_composed_canvas(canvases: MNISTCaptionsDataModule):
    batch = next(iter(canvases.val_dataloader()))
    images = batch["image"]
    assert images.shape == (100, 1, 32, 32) and images.min() >= -1 and images.max() <= 1
    assert batch["tokens"].shape == (100, 12) and batch["tokens"].dtype == torch.long
    ink = (images[:, 0] + 1) / 2
    half = 16
    for i in range(100):
        caption = canvases.tokenizer.decode(batch["tokens"][i])
        digit, position = int(batch["digit"][i]), POSITIONS[int(batch["position"][i])]
        assert DIGIT_WORDS[digit] in caption.split() or str(digit) in caption.split(), caption
        assert position in caption, caption
        side_ink = {
            "left": (ink[i, :, :half].sum(), ink[i, :, half:].sum()),
            "right": (ink[i, :, half:].sum(), ink[i, :, :half].sum()),
            "top": (ink[i, :half].sum(), ink[i, half:].sum()),
            "bottom": (ink[i, half:].sum(), ink[i, :half].sum()),
        }[position]
        assert side_ink[0] > side_ink[1], f"{caption!r} but most ink is elsewhere"
        size = int(batch["size"][i])
        if size >= 0:
            assert ("small" in caption or "tiny" in caption) == (size == 0), caption
            assert (ink_extent(images[i : i + 1]).item() > canvases.layout.size_threshold) == (size == 1), caption
        thickness = int(batch["thickness"][i])
        said = {"thick", "bold"} & set(caption.split()), "thin" in caption.split()
        assert (bool(said[0]), said[1]) == (thickness == 1, thickness == 0), caption


def test_thickness_is_relative_to_the_class_and_read_back_from_ink(canvases: MNISTCaptionsDataModule):
    pixels, labels = mnist5k_pixels()
    digits = boxed_digits(pixels)
    marks = thickness_labels(digits, labels)
    ink = ink_mass(digits)
    for digit in range(10):
        members = labels == digit
        thick, thin = ink[members & (marks == 1)], ink[members & (marks == 0)]
        assert thick.min() > thin.max(), digit  # within a class, thick digits have more ink
        assert 0.35 < len(thick) / members.sum() < 0.45 and 0.35 < len(thin) / members.sum() < 0.45
    thick_ones, thin_eights = ink[(labels == 1) & (marks == 1)], ink[(labels == 8) & (marks == 0)]
    assert thick_ones.median() < thin_eights.median()  # relative to the class, not absolute
    thresholds = canvases.thickness_thresholds()
    assert thresholds.shape == (10, 2) and (thresholds[:, 1] > thresholds[:, 0]).all()  # more ink when large


def test_items_are_fixed_per_index_held_out_and_recomposed_per_training_epoch(canvases: MNISTCaptionsDataModule):
    held_out, train = canvases.val_set, canvases.train_set
    assert torch.equal(held_out[3]["image"], held_out[3]["image"])
    first = [train[i]["image"] for i in range(8)]
    train.set_epoch(1)
    again = [train[i]["image"] for i in range(8)]
    train.set_epoch(0)
    assert any(not torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(torch.equal(a, train[i]["image"]) for i, a in enumerate(first))
    same_seed = MNISTCaptionsDataModule(val_size=200)
    same_seed.setup()
    assert torch.equal(same_seed.val_set[5]["tokens"], held_out[5]["tokens"])


@pytest.mark.parametrize(
    ("label", "digit", "size", "thickness", "expected"),
    [
        ("digit", 7, 1, 1, 7),
        ("digit_thickness", 7, 1, 0, 21),  # thin
        ("digit_thickness", 7, 0, NOT_SAID, 22),  # the undescribed middle
        ("digit_thickness", 7, 0, 1, 23),  # thick
        ("digit_size_thickness", 7, 0, 0, 42),
        ("digit_size_thickness", 7, 1, 1, 47),
        ("digit_size_thickness", 0, 1, NOT_SAID, 4),
    ],
)
def test_caption_class_counts_digit_then_size_then_stroke(
    label: str, digit: int, size: int, thickness: int, expected: int
):
    assert caption_class(label, digit, size, thickness) == expected


def test_finer_labels_carry_the_digit_the_drawn_size_and_the_stroke_class():
    data = MNISTCaptionsDataModule(batch_size=200, val_size=200, label="digit_size_thickness")
    data.setup()
    assert data.num_classes == 60
    batch = next(iter(data.val_dataloader()))
    label, said_size = batch["label"], batch["size"]
    assert torch.equal(label // 6, batch["digit"])
    stroke = label % 3
    assert torch.equal(stroke == 0, batch["thickness"] == 0) and torch.equal(stroke == 2, batch["thickness"] == 1)
    drawn_size = (label % 6) // 3
    said = said_size != NOT_SAID
    assert torch.equal(drawn_size[said], said_size[said])
    large = ink_extent(batch["image"]) > data.layout.size_threshold
    # the image's own size, said or not (the extent reader misses about one canvas in 200)
    assert (drawn_size.bool() == large)[~said].float().mean() > 0.9 and (~said).sum() > 10
    assert len(label.unique()) > 30


def test_an_unknown_label_choice_is_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"label must be one of .*digit_thickness"):
        MNISTCaptionsDataModule(label="stroke")
