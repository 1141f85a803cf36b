"""The generic semi-supervised data: a balanced, seeded, nested labelled subset, and training
items that pair every unlabelled sample with a labelled one."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from gan_lightning.data.semi_supervised import LabelledAndUnlabelled, SemiSupervisedItem, balanced_subset

LABELS = torch.arange(60) % 3  # 20 samples of each of 3 classes


def test_balanced_subset_takes_k_of_each_class_by_seed():
    keep = balanced_subset(LABELS, 4, seed=0, num_classes=3)
    assert torch.bincount(LABELS[keep], minlength=3).tolist() == [4, 4, 4]
    assert len(set(keep.tolist())) == 12
    assert torch.equal(keep, balanced_subset(LABELS, 4, seed=0, num_classes=3))
    assert set(keep.tolist()) != set(balanced_subset(LABELS, 4, seed=1, num_classes=3).tolist())
    assert set(keep.tolist()) < set(balanced_subset(LABELS, 7, seed=0, num_classes=3).tolist()), "nested in k"


def test_balanced_subset_explains_too_many_labels():
    with pytest.raises(ValueError, match="labels_per_class=21 is more than the 20 samples of the rarest class"):
        balanced_subset(LABELS, 21, seed=0, num_classes=3)


def test_every_unlabelled_sample_comes_once_with_the_labelled_ones_tiled():
    unlabelled = torch.arange(10.0)
    data = LabelledAndUnlabelled(unlabelled, images=torch.tensor([100.0, 200.0, 300.0]), labels=torch.tensor([1, 2, 3]))
    items = [data[i] for i in range(len(data))]
    assert len(data) == 10 and [item.unlabelled.item() for item in items] == list(range(10))
    assert [item.labels.item() for item in items] == [1, 2, 3] * 3 + [1]
    assert all(item.labelled.item() == 100 * item.labels.item() for item in items), "each image keeps its label"
    batch = next(iter(DataLoader(data, batch_size=4)))
    assert isinstance(batch, SemiSupervisedItem) and batch.labelled.tolist() == [100.0, 200.0, 300.0, 100.0]


def test_labelled_and_unlabelled_rejects_mismatches():
    with pytest.raises(ValueError, match="as many labels as labelled images"):
        LabelledAndUnlabelled(torch.zeros(5), torch.zeros(2), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="No unlabelled samples"):
        LabelledAndUnlabelled(torch.zeros(0), torch.zeros(3), torch.zeros(3, dtype=torch.long))


def test_more_labels_than_unlabelled_samples_visit_every_label_and_tile_the_unlabelled():
    data = LabelledAndUnlabelled(torch.arange(2.0), images=torch.arange(5.0) * 10, labels=torch.arange(5))
    items = [data[i] for i in range(len(data))]
    assert len(data) == 5 and [item.labels.item() for item in items] == [0, 1, 2, 3, 4]
    assert [item.unlabelled.item() for item in items] == [0, 1, 0, 1, 0]
