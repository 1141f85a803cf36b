"""The CycleGAN demo: plain MNIST-5k digits (domain A) against digits in a *style* (domain B:
thick strokes, inverted, or both), offline, with the checks that read a translation back —
is it in the target style (:func:`in_style`), and which digit does it show once the style is
undone (:func:`readable_digits`)."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.base import scale_images
from gan_lightning.data.embedded import check_channels, repeat_channels
from gan_lightning.data.translation import (
    TensorDictDataset,
    TranslationDataModule,
    check_choice,
    check_held_out,
    check_positive,
    seeded_split,
)
from gan_lightning.data.unpaired import UnpairedDataset
from gan_lightning.mnist.digits import MNIST_SIZE, mnist5k_digits

STYLES = ("thick", "inverted", "thick_inverted")
BACKGROUND_THRESHOLD = 0.5
"""Mean intensity in [0, 1] of the 2-pixel frame (at 28 px) above which a digit image counts
as inverted: MNIST digits sit on a black background that no stroke reaches, even thickened."""
STROKE_THRESHOLD = 0.5
"""Fraction of ink surviving a 3×3 erosion at 28 px above which strokes count as thick
(MNIST-5k at 32 px: plain median 0.09, 99th percentile 0.49; thickened minimum 0.52)."""


def thicken(images: Tensor) -> Tensor:
    """Grey dilation by a (2r+1)² max-pool, r = round(2·size/28): strokes about 4 px wider
    at MNIST's 28 px, the same look at any image size."""
    radius = max(1, round(2 * images.shape[-1] / MNIST_SIZE))
    return F.max_pool2d(images, 2 * radius + 1, stride=1, padding=radius)


def apply_style(images: Tensor, style: str) -> Tensor:
    """(N, C, H, W) digits in [-1, 1] rendered in ``style`` (``plain`` leaves them as they
    are): domain B of :class:`MNISTStylesDataModule` is ``apply_style(digits, style)``."""
    features = check_choice("style", style, ("plain", *STYLES)).split("_")
    if "thick" in features:
        images = thicken(images)
    return -images if "inverted" in features else images


def _frame(size: int, width: int = 2) -> Tensor:
    inside = torch.zeros(size, size, dtype=torch.bool)
    inside[width:-width, width:-width] = True
    return ~inside


def style_statistics(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per (C, H, W) image, measured after resizing to 28 px: ``background``, the mean
    intensity in [0, 1] of the 2-pixel frame (0 for MNIST, 1 inverted), and ``stroke``, the
    fraction of ink pixels (the side of 0 away from the background) that survive a 3×3
    erosion — median 0.09 for MNIST's pen, above 0.5 once thickened."""
    grey = scale_images(images.mean(1, keepdim=True), MNIST_SIZE)
    background = ((grey[:, 0, _frame(MNIST_SIZE)] + 1) / 2).mean(1)
    inverted = background > BACKGROUND_THRESHOLD
    ink = (torch.where(inverted[:, None, None, None], -grey, grey) > 0).float()
    eroded = -F.max_pool2d(-ink, 3, stride=1, padding=1)
    return background, eroded.sum((1, 2, 3)) / ink.sum((1, 2, 3)).clamp(min=1)


def in_style(images: Tensor, style: str) -> Tensor:
    """Whether each image looks like ``style`` (``plain`` for domain A): inverted exactly when
    the style inverts, thick exactly when it thickens (:data:`BACKGROUND_THRESHOLD`,
    :data:`STROKE_THRESHOLD`). A style check for translations, ≥ 99 % right on MNIST-5k."""
    features = check_choice("style", style, ("plain", *STYLES)).split("_")
    background, stroke = style_statistics(images)
    return ((background > BACKGROUND_THRESHOLD) == ("inverted" in features)) & (
        (stroke > STROKE_THRESHOLD) == ("thick" in features)
    )


def readable_digits(images: Tensor, style: str) -> Tensor:
    """Digits in ``style`` turned back into what the MNIST classifier was trained on: inverted
    ones negated, thick ones eroded by the dilation's own window (a grey opening, so an
    approximation: the classifier reads 63 % of MNIST-5k's held-out thick digits as they are,
    93 % eroded; plain 98 %). Used for ``val/digit_accuracy_ab``."""
    features = style.split("_")
    if "inverted" in features:
        images = -images
    if "thick" in features:
        radius = max(1, round(2 * images.shape[-1] / MNIST_SIZE))  # thicken()'s window
        images = -F.max_pool2d(-images, 2 * radius + 1, stride=1, padding=radius)
    return images


class MNISTStylesDataModule(TranslationDataModule):
    """Offline CycleGAN demo from MNIST-5k: domain A is plain digits, domain B *other* digits
    in ``style`` — ``thick`` (dilated strokes), ``inverted`` (1 - x) or ``thick_inverted``.

    The training digits (all but the ``val_size`` held out, as ``MNIST5kDataModule`` holds
    them out) are split into two disjoint halves, one per domain, so no A image has a
    counterpart in B: the pairing is unknowable, as in real unpaired data. Held-out items
    pair each held-out digit with *its own* styled version (``b == apply_style(a)``,
    ``label_a == label_b``) — the ground truth of the translation, for evaluation only.
    ``indices_a``, ``indices_b``, ``indices_val`` are the MNIST-5k rows of each part.
    """

    num_classes = 10

    def __init__(
        self,
        style: Literal["thick", "inverted", "thick_inverted"] = "thick",
        image_size: int = 32,
        channels: int = 1,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.style = check_choice("style", style, STYLES)
        self.image_size = check_positive("image_size", image_size)
        self.channels = check_channels(channels)
        self.val_size = check_held_out(val_size)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(self.image_size)
        train_idx, self.indices_val = seeded_split(len(digits), self.val_size, self.seed)
        self.indices_a, self.indices_b = train_idx[: len(train_idx) // 2], train_idx[len(train_idx) // 2 :]
        if len(self.indices_a) == 0:
            raise ValueError(f"val_size={self.val_size} leaves too few digits to split into two domains.")
        styled = apply_style(digits, self.style)
        plain, styled = repeat_channels(digits, self.channels), repeat_channels(styled, self.channels)
        domain_a = TensorDictDataset(image=plain[self.indices_a], label=labels[self.indices_a])
        domain_b = TensorDictDataset(image=styled[self.indices_b], label=labels[self.indices_b])
        val = self.indices_val
        held_out = TensorDictDataset(a=plain[val], b=styled[val], label_a=labels[val], label_b=labels[val])
        return UnpairedDataset(domain_a, domain_b, seed=self.seed), held_out
