"""Data modules that feed real batches of ``(samples, labels)`` scaled to [-1, 1]."""

from gan_lightning.data.base import InMemoryDataModule
from gan_lightning.data.embedded import Digits8x8DataModule, MNIST5kDataModule

__all__ = ["Digits8x8DataModule", "InMemoryDataModule", "MNIST5kDataModule"]
