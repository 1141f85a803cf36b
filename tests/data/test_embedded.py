"""The embedded sklearn digits (Digits8x8): offline, scaled to [-1, 1], and the settings every
data module refuses at construction."""

from __future__ import annotations

import pytest

from gan_lightning.data import Digits8x8DataModule


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
