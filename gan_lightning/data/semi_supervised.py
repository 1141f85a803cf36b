"""Data for semi-supervised learning: a few labelled samples beside many unlabelled ones.

:func:`balanced_subset` picks the labelled samples (k per class, by a seed);
:class:`LabelledAndUnlabelled` serves one training item per *unlabelled* sample, paired with a
labelled one, so every batch holds as many labelled as unlabelled samples, however few
labels there are: the labelled set is tiled over the epoch, as Salimans et al. 2016's code
tiles its 100 MNIST labels (``improved-gan/mnist_svhn_cifar10/train_mnist_feature_matching.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.image_data import DataError


class SemiSupervisedItem(NamedTuple):
    """One training item, and (collated) one batch. The unlabelled images come first, where every
    GAN batch holds its samples: what a metric's floor reads (``split_batch(batch)[0]``)."""

    unlabelled: Tensor
    labelled: Tensor
    labels: Tensor


class NotEnoughLabelsError(DataError, ValueError):
    """``labels_per_class`` asks for more samples of a class than the training split holds."""


def balanced_subset(labels: Tensor, per_class: int, seed: int, num_classes: int) -> Tensor:
    """Indices of ``per_class`` samples of each class: the first of each class in a
    ``seed``-random order, so a smaller ``per_class`` is a subset of a larger one with the same
    seed. Returned in that random order (classes interleaved)."""
    counts = torch.bincount(labels, minlength=num_classes)
    if per_class > int(counts.min()):
        raise NotEnoughLabelsError(
            f"labels_per_class={per_class} is more than the {int(counts.min())} samples of the rarest class "
            "in the training split: lower labels_per_class."
        )
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    rank_in_class = torch.empty_like(labels)
    for label in range(num_classes):
        members = order[labels[order] == label]
        rank_in_class[members] = torch.arange(len(members))
    return order[rank_in_class[order] < per_class]


class LabelledAndUnlabelled(Dataset):
    """Item ``i``: ``SemiSupervisedItem(unlabelled[i mod U], images[i mod L], labels[i mod L])``
    for U unlabelled and L labelled samples, ``max(U, L)`` items. A shuffled epoch visits every
    sample of the larger set once and tiles the smaller one: with few labels (the usual case)
    every unlabelled sample once and every labelled one U / L times; with many labels and few
    unlabelled samples (e.g. 400 labels per class of MNIST-5k), the other way round."""

    def __init__(self, unlabelled: Tensor, images: Tensor, labels: Tensor) -> None:
        if len(images) != len(labels) or len(labels) == 0:
            raise ValueError(
                f"Need as many labels as labelled images (and at least one): {len(images)} vs {len(labels)}."
            )
        if len(unlabelled) == 0:
            raise ValueError("No unlabelled samples: a semi-supervised GAN needs some (or train a classifier alone).")
        self.unlabelled, self.images, self.labels = unlabelled, images, labels

    def __len__(self) -> int:
        return max(len(self.unlabelled), len(self.labels))

    def __getitem__(self, index: int) -> SemiSupervisedItem:
        j = index % len(self.labels)
        return SemiSupervisedItem(self.unlabelled[index % len(self.unlabelled)], self.images[j], self.labels[j])
