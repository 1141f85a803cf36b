"""The embedded data sets: offline, scaled to [-1, 1], split the same way every time."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data import Digits8x8DataModule
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


def test_digits8x8():
    data = Digits8x8DataModule(batch_size=16)
    assert data.sample_shape == (1, 8, 8)
    assert len(data.train_set) + len(data.val_set) == 1797
    assert data.train_set.tensors[0].min() == -1.0 and data.train_set.tensors[0].max() == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": -4}, "batch_size"),
        ({"val_size": -1}, "val_size"),
        ({"num_workers": -1}, "num_workers"),
    ],
)
def test_impossible_settings_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Digits8x8DataModule(**kwargs)


def test_split_that_leaves_too_little_data_is_explained():
    with pytest.raises(ValueError, match="leaves no training data"):
        Digits8x8DataModule(val_size=5000).setup()
    with pytest.raises(ValueError, match="larger than the training set"):
        Digits8x8DataModule(batch_size=4000).setup()


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
