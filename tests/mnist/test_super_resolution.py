"""MNIST super-resolution (the SRGAN demo): low-resolution digits beside the high-resolution ones."""

from __future__ import annotations

import torch

from gan_lightning.data import (
    bicubic_downsample,
)
from gan_lightning.mnist import (
    MNISTSuperResolutionDataModule,
)
from tests.conftest import first_batch, in_range


def test_mnist_super_resolution():
    module = MNISTSuperResolutionDataModule(scale=4, batch_size=4, val_size=100)
    batch = first_batch(module)
    assert batch.keys() == {"source", "target", "label"}
    assert batch["source"].shape == (4, 1, 7, 7) and batch["target"].shape == (4, 1, 28, 28)
    assert torch.equal(batch["source"], bicubic_downsample(batch["target"], 4)) and in_range(batch["source"])
    rgb = first_batch(MNISTSuperResolutionDataModule(scale=2, image_size=32, channels=3))
    assert rgb["source"].shape[1:] == (3, 16, 16) and rgb["target"].shape[1:] == (3, 32, 32)
