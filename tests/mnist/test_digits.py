"""MNIST-5k, the embedded digits of the demos: offline, scaled to [-1, 1], split the same way
every time, a seeded training subset and a labelled subset of k digits per class."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.mnist import MNIST5kDataModule


def test_mnist5k_is_embedded_scaled_and_split():
    data = MNIST5kDataModule(batch_size=32, val_size=500)
    data.setup()
    images, labels = data.train_set.tensors
    assert images.shape == (4500, 1, 28, 28) and len(data.val_set) == 500
    assert images.min() == -1.0 and images.max() == 1.0
    assert torch.bincount(torch.cat([labels, data.val_set.tensors[1]])).tolist() == [500] * 10
    batch_images, batch_labels = next(iter(data.train_dataloader()))
    assert batch_images.shape == (32, 1, 28, 28) and batch_labels.dtype == torch.long


def test_split_and_shuffle_are_seeded():
    first, second, other = (MNIST5kDataModule(seed=s) for s in (0, 0, 1))
    for data in (first, second, other):
        data.setup()
    assert torch.equal(first.val_set.tensors[1], second.val_set.tensors[1])
    assert not torch.equal(first.val_set.tensors[0], other.val_set.tensors[0])
    batch_a = next(iter(first.train_dataloader()))[0]
    batch_b = next(iter(second.train_dataloader()))[0]
    assert torch.equal(batch_a, batch_b)


def test_resize_for_power_of_two_architectures():
    data = MNIST5kDataModule(image_size=32, val_size=10)
    assert data.sample_shape == (1, 32, 32)
    images = data.train_set.tensors[0]
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_mnist5k_train_size_keeps_a_seeded_subset_and_the_same_validation_set():
    full, small, again, smaller = (MNIST5kDataModule(train_size=n) for n in (None, 500, 500, 100))
    for data in (full, small, again, smaller):
        data.setup()
    assert len(small.train_set) == 500 and len(smaller.train_set) == 100
    assert torch.equal(small.train_set.tensors[0], again.train_set.tensors[0])  # seeded
    assert torch.equal(small.val_set.tensors[0], full.val_set.tensors[0])  # held-out digits unchanged
    assert torch.equal(small.train_set.tensors[0], full.train_set.tensors[0][:500])  # a subset of the split
    assert torch.equal(smaller.train_set.tensors[0], small.train_set.tensors[0][:100])  # nested sizes
    assert len(small.train_dataloader()) == 500 // 64


def test_mnist5k_train_size_beyond_the_split_is_explained():
    with pytest.raises(ValueError, match=r"train_size=4600 is more than the 4500 training images"):
        MNIST5kDataModule(train_size=4600).setup()
    with pytest.raises(ValueError, match="larger than the training set"):
        MNIST5kDataModule(train_size=32, batch_size=64).setup()
    with pytest.raises(ValueError, match="train_size must be a positive"):
        MNIST5kDataModule(train_size=0)


def rows_of(images: torch.Tensor) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


# ---------------------------------------------------------------- the labelled subset
def test_labelled_subset_has_k_per_class_from_the_training_split_only():
    full, subset = MNIST5kDataModule(), MNIST5kDataModule(labels_per_class=20, labels_seed=3)
    full.setup()
    subset.setup()
    images, labels = subset.train_set.tensors
    assert torch.bincount(labels, minlength=10).tolist() == [20] * 10
    assert torch.equal(subset.val_set.tensors[0], full.val_set.tensors[0]), "the held-out split must not change"
    assert rows_of(images) <= rows_of(full.train_set.tensors[0])
    assert not rows_of(images) & rows_of(full.val_set.tensors[0])
    # each kept image keeps its own label
    train_images, train_labels = full.train_set.tensors
    lookup = {image.numpy().tobytes(): int(label) for image, label in zip(train_images, train_labels, strict=True)}
    assert all(lookup[image.numpy().tobytes()] == int(label) for image, label in zip(images, labels, strict=True))


def test_labelled_subset_is_seeded_and_nested():
    def subset(k: int, seed: int) -> set[bytes]:
        datamodule = MNIST5kDataModule(labels_per_class=k, labels_seed=seed)
        datamodule.setup()
        return rows_of(datamodule.train_set.tensors[0])

    assert subset(10, 0) == subset(10, 0)
    assert subset(10, 0) != subset(10, 1)
    assert subset(10, 1) < subset(30, 1), "more labels add to the same digits"


def test_labelled_subset_bad_values_are_explained():
    with pytest.raises(ValueError, match="rarest class"):
        MNIST5kDataModule(labels_per_class=450).setup()
    with pytest.raises(ValueError, match="not both"):
        MNIST5kDataModule(labels_per_class=10, train_size=100)
    with pytest.raises(ValueError, match="labels_per_class must be a positive"):
        MNIST5kDataModule(labels_per_class=0)
