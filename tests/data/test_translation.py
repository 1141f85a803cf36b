"""What every image-to-image data module refuses at construction, and a held-out split that
leaves no training data."""

from __future__ import annotations

import pytest

from gan_lightning.data import (
    PairedImageFolderDataModule,
    SuperResolutionFolderDataModule,
    UnpairedImageFolderDataModule,
)
from gan_lightning.mnist import (
    MNISTPairsDataModule,
    MNISTStylesDataModule,
    MNISTSuperResolutionDataModule,
)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: PairedImageFolderDataModule("x", layout="stacked"), "layout must be one of"),
        (lambda: PairedImageFolderDataModule("x", direction="AB"), "direction must be one of"),
        (lambda: PairedImageFolderDataModule("x", source_channels=2), "channels must be 1"),
        (lambda: PairedImageFolderDataModule("x", image_size=0), "image_size must be a positive integer"),
        (lambda: PairedImageFolderDataModule("x", val_size=-1), "val_size must be"),
        (lambda: MNISTPairsDataModule(task="colour"), "task must be one of"),
        (lambda: MNISTStylesDataModule(style="bold"), "style must be one of"),
        (lambda: UnpairedImageFolderDataModule("x", batch_size=0), "batch_size must be a positive integer"),
        (
            lambda: SuperResolutionFolderDataModule("x", crop_size=90, scale=4),
            "crop_size=90 must be divisible by scale=4",
        ),
        (lambda: SuperResolutionFolderDataModule("x", scale=1), "scale must be an integer >= 2"),
        (lambda: MNISTSuperResolutionDataModule(scale=3, image_size=28), "image_size=28 must be divisible"),
    ],
)
def test_bad_arguments_fail_at_construction(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_val_size_that_leaves_nothing_is_explained():
    with pytest.raises(ValueError, match="val_size=5000 leaves no training data"):
        MNISTPairsDataModule(val_size=5000).setup()
    with pytest.raises(ValueError, match="larger than the training set"):
        MNISTStylesDataModule(val_size=4990, batch_size=64).setup()
