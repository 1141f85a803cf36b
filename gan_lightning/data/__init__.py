"""Data modules that feed real batches scaled to [-1, 1]: ``(samples, labels)`` for
noise → image GANs, dicts (``{"source", "target"}``, ``{"a", "b"}``) for image-to-image tasks."""

from gan_lightning.data.base import InMemoryDataModule
from gan_lightning.data.captions import CaptionDataModule, CaptionFileError
from gan_lightning.data.embedded import Digits8x8DataModule, MNIST5kDataModule
from gan_lightning.data.image_data import DataError, DataNotFoundError, ImageDataModule, UnreadableImagesError
from gan_lightning.data.image_folder import ImageFolderDataModule
from gan_lightning.data.mnist_captions import MNISTCaptionsDataModule
from gan_lightning.data.moving_mnist import MovingMNISTDataModule
from gan_lightning.data.paired import MNISTPairsDataModule, PairedImageFolderDataModule, UnmatchedPairsError
from gan_lightning.data.stacked_mnist import StackedMNISTDataModule
from gan_lightning.data.super_resolution import (
    MNISTSuperResolutionDataModule,
    SuperResolutionFolderDataModule,
    TooSmallImagesError,
    bicubic_downsample,
    bicubic_upsample,
)
from gan_lightning.data.torchvision_data import (
    CelebADataModule,
    CIFAR10DataModule,
    FashionMNISTDataModule,
    MNISTDataModule,
    TorchvisionDataModule,
)
from gan_lightning.data.toy2d import GaussianMixture2DDataModule, Grid2DDataModule, Ring2DDataModule
from gan_lightning.data.translation import TranslationDataModule
from gan_lightning.data.unpaired import (
    MNISTStylesDataModule,
    UnpairedImageFolderDataModule,
    apply_style,
    in_style,
    style_statistics,
)
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
    "MNIST5kDataModule",
    "MNISTCaptionsDataModule",
    "MNISTDataModule",
    "MNISTPairsDataModule",
    "MNISTStylesDataModule",
    "MNISTSuperResolutionDataModule",
    "MovingMNISTDataModule",
    "PairedImageFolderDataModule",
    "Ring2DDataModule",
    "StackedMNISTDataModule",
    "SuperResolutionFolderDataModule",
    "TooSmallImagesError",
    "TorchvisionDataModule",
    "TranslationDataModule",
    "UnmatchedPairsError",
    "UnpairedImageFolderDataModule",
    "UnreadableImagesError",
    "VideoFolderDataModule",
    "VideoReaderMissingError",
    "apply_style",
    "bicubic_downsample",
    "bicubic_upsample",
    "in_style",
    "style_statistics",
]
