"""MNIST captions (the text-to-image demo): captions that describe the composed canvas, thickness
relative to the digit's class, items fixed per index when held out and recomposed per training epoch."""

from __future__ import annotations

import torch

from gan_lightning.mnist import MNISTCaptionsDataModule, mnist5k_pixels
from gan_lightning.mnist.caption_reading import ink_extent, ink_mass
from gan_lightning.mnist.captions import DIGIT_WORDS, POSITIONS, boxed_digits, thickness_labels


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
