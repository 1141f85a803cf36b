"""MNIST-5k with k labels per class: balanced and seeded, the same labelled digits as
``MNIST5kDataModule(labels_per_class=k)``, the rest of the training split unlabelled, the
held-out digits untouched."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.mnist import MNIST5kDataModule, MNIST5kSemiSupervisedDataModule


def rows_of(images: torch.Tensor) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


@pytest.fixture(scope="module")
def ten_per_class() -> MNIST5kSemiSupervisedDataModule:
    data = MNIST5kSemiSupervisedDataModule(labels_per_class=10, labels_seed=2)
    data.setup()
    return data


def test_labelled_digits_are_balanced_seeded_and_those_of_the_labelled_subset(ten_per_class):
    labelled = ten_per_class.train_set
    assert torch.bincount(labelled.labels, minlength=10).tolist() == [10] * 10
    subset = MNIST5kDataModule(labels_per_class=10, labels_seed=2)
    subset.setup()
    assert torch.equal(labelled.images, subset.train_set.tensors[0])
    assert torch.equal(labelled.labels, subset.train_set.tensors[1])
    other_seed = MNIST5kSemiSupervisedDataModule(labels_per_class=10, labels_seed=3)
    other_seed.setup()
    assert rows_of(other_seed.train_set.images) != rows_of(labelled.images)


def test_unlabelled_digits_are_the_rest_of_the_training_split_and_held_out_is_unchanged(ten_per_class):
    full = MNIST5kDataModule()
    full.setup()
    train, held_out = rows_of(full.train_set.tensors[0]), rows_of(full.val_set.tensors[0])
    labelled, unlabelled = rows_of(ten_per_class.train_set.images), rows_of(ten_per_class.train_set.unlabelled)
    assert len(ten_per_class.train_set.unlabelled) == 4500 - 100
    assert not labelled & unlabelled and labelled | unlabelled == train
    assert not (labelled | unlabelled) & held_out
    assert torch.equal(ten_per_class.val_set.tensors[0], full.val_set.tensors[0])


def test_training_batches_hold_as_many_labelled_as_unlabelled_digits():
    data = MNIST5kSemiSupervisedDataModule(labels_per_class=5, batch_size=32)
    unlabelled, labelled, labels = next(iter(data.train_dataloader()))
    assert unlabelled.shape == labelled.shape == (32, 1, 28, 28) and labels.shape == (32,)
    assert len(data.train_dataloader()) == (4500 - 50) // 32  # an epoch is one pass over the unlabelled digits
    images, held_out_labels = next(iter(data.val_dataloader()))
    assert images.shape == (32, 1, 28, 28) and held_out_labels.dtype == torch.long


def test_bad_label_counts_are_explained():
    with pytest.raises(ValueError, match="labels_per_class must be a positive"):
        MNIST5kSemiSupervisedDataModule(labels_per_class=0)
    with pytest.raises(ValueError, match="rarest class"):
        MNIST5kSemiSupervisedDataModule(labels_per_class=451).setup()


def test_400_labels_per_class_leave_500_unlabelled_digits_tiled_over_an_epoch():
    data = MNIST5kSemiSupervisedDataModule(labels_per_class=400, batch_size=50)
    data.setup()
    assert len(data.labelled_set) == 4000 and len(data.train_set) == 4000
    unlabelled = {bytes(data.train_set[i].unlabelled.numpy()) for i in range(len(data.train_set))}
    assert len(unlabelled) == 500  # each of the 500 others, none of them labelled
    assert not unlabelled & set(map(bytes, data.labelled_set.tensors[0].numpy()))
