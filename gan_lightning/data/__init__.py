"""Data modules that feed real batches of ``(samples, labels)`` scaled to [-1, 1]."""

from gan_lightning.data.base import InMemoryDataModule
from gan_lightning.data.embedded import Digits8x8DataModule, MNIST5kDataModule
from gan_lightning.data.image_data import DataError, DataNotFoundError, ImageDataModule, UnreadableImagesError
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.torchvision_data import (
    CelebADataModule,
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
    TorchvisionDataModule,
)
from gan_lightning.data.toy2d import GaussianMixture2DDataModule, Grid2DDataModule, Ring2DDataModule

__all__ = [
    "CIFAR10DataModule",
    "CelebADataModule",
    "DataError",
    "DataNotFoundError",
    "Digits8x8DataModule",
    "FashionMNISTDataModule",
    "GaussianMixture2DDataModule",
    "Grid2DDataModule",
    "ImageDataModule",
    "ImageFolderDataModule",
    "InMemoryDataModule",
    "MNIST5kDataModule",
    "MNISTDataModule",
    "Ring2DDataModule",
    "TorchvisionDataModule",
    "UnreadableImagesError",
]
