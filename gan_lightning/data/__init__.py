"""Data modules that feed real batches scaled to [-1, 1]: ``(samples, labels)`` for
noise → image GANs, dicts (``{"source", "target"}``, ``{"a", "b"}``) for image-to-image tasks,
``(unlabelled, labelled, labels)`` for semi-supervised learning (:class:`LabelledAndUnlabelled`).

The offline MNIST demos' data (MNIST-5k and everything built from it) is in :mod:`gan_lightning.mnist`."""

from gan_lightning.data.base import InMemoryDataModule
from gan_lightning.data.captions import CaptionDataModule, CaptionFileError
from gan_lightning.data.embedded import Digits8x8DataModule
from gan_lightning.data.image_data import DataError, DataNotFoundError, ImageDataModule, UnreadableImagesError
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.paired import PairedImageFolderDataModule, UnmatchedPairsError
from gan_lightning.data.semi_supervised import LabelledAndUnlabelled, SemiSupervisedItem, balanced_subset
from gan_lightning.data.super_resolution import SuperResolutionFolderDataModule, TooSmallImagesError, bicubic_downsample
from gan_lightning.data.torchvision_data import (
    CelebADataModule,
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
    TorchvisionDataModule,
)
from gan_lightning.data.toy2d import GaussianMixture2DDataModule, Grid2DDataModule, Ring2DDataModule
from gan_lightning.data.translation import TranslationDataModule
from gan_lightning.data.unpaired import UnpairedImageFolderDataModule
from gan_lightning.data.video_folder import VideoFolderDataModule, VideoReaderMissingError

__all__ = [
    "CIFAR10DataModule",
    "CaptionDataModule",
    "CaptionFileError",
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
    "LabelledAndUnlabelled",
    "MNISTDataModule",
    "PairedImageFolderDataModule",
    "Ring2DDataModule",
    "SemiSupervisedItem",
    "SuperResolutionFolderDataModule",
    "TooSmallImagesError",
    "TorchvisionDataModule",
    "TranslationDataModule",
    "UnmatchedPairsError",
    "UnpairedImageFolderDataModule",
    "UnreadableImagesError",
    "VideoFolderDataModule",
    "VideoReaderMissingError",
    "balanced_subset",
    "bicubic_downsample",
]
