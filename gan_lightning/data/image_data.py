"""The shared part of the image datamodules: one transform, one loader policy, one way to
say that data is missing.

Every image datamodule yields ``(images, labels)`` batches with images as floats in
[-1, 1] of shape (B, channels, image_size, image_size): the range of a ``tanh`` generator.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Subset
from torchvision import transforms
from torchvision.transforms.v2 import functional as TF

from gan_lightning.data.base import SplitDataModule
from gan_lightning.errors import GanLightningError


class DataError(GanLightningError):
    """A problem with the data that the user must fix; the message says how. The
    datamodules raise it from ``prepare_data``/``setup`` so a run stops before any training
    starts, and the command line prints it as one line instead of a traceback."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data set is not where the config says, or could not be downloaded."""


class UnreadableImagesError(DataError, ValueError):
    """Files that are not readable images, with ``on_bad_file: error``."""


class ConvertMode:
    """PIL image → ``mode`` ("L" grey or "RGB"). A class, not a lambda, so transforms
    pickle into DataLoader worker processes."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def __call__(self, image: Image.Image) -> Image.Image:
        return image if image.mode == self.mode else image.convert(self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.mode!r})"


def image_transform(image_size: int, channels: int, center_crop: int | None = None) -> transforms.Compose:
    """PIL image → float tensor (channels, image_size, image_size) in [-1, 1].

    ``center_crop`` first cuts a centred square of that many pixels at the original
    resolution (e.g. the face region of CelebA); then the shorter side is resized to
    ``image_size`` (antialiased) and the centre square kept, so no image is stretched.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels}.")
    if image_size < 1:
        raise ValueError(f"image_size must be a positive integer, got {image_size}.")
    steps: list = [ConvertMode("L" if channels == 1 else "RGB")]
    if center_crop is not None:
        steps.append(transforms.CenterCrop(center_crop))
    steps += [
        transforms.Resize(image_size, antialias=True),
        transforms.CenterCrop(image_size),
        transforms.ToTensor(),
        transforms.Normalize([0.5] * channels, [0.5] * channels),
    ]
    return transforms.Compose(steps)


def prepare_uint8_images(
    images: Tensor, image_size: int, channels: int, center_crop: int | None = None, chunk: int = 4096
) -> Tensor:
    """:func:`image_transform`'s geometry and colour applied to a whole uint8 (N, C, H, W)
    tensor at once, kept as uint8: the fast path for data sets that are arrays in memory
    (MNIST, CIFAR). Matches the per-image PIL path to within a grey level or two."""
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise ValueError(f"expected uint8 images of shape (N, C, H, W), got {images.dtype} {tuple(images.shape)}.")
    prepared = []
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].float()
        if channels == 1 and x.shape[1] == 3:
            x = TF.rgb_to_grayscale(x)
        elif channels == 3 and x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        if center_crop is not None:
            x = TF.center_crop(x, [center_crop, center_crop])
        if min(x.shape[-2:]) != image_size or x.shape[-1] != x.shape[-2]:
            x = TF.resize(x, image_size, interpolation=TF.InterpolationMode.BILINEAR, antialias=True)
            x = TF.center_crop(x, [image_size, image_size])
        prepared.append(x.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(prepared) if prepared else images.new_zeros((0, channels, image_size, image_size))


class UInt8ImageDataset(Dataset):
    """``(image in [-1, 1], label)`` from uint8 images already at their final size: one
    cheap conversion per item instead of a PIL decode, resize and crop."""

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels.")
        self.images = images
        self.labels = torch.as_tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images[index].float() / 127.5 - 1.0, self.labels[index]


def seeded_subset(dataset: Dataset, size: int | None, seed: int) -> Dataset:
    """A fixed random subset of ``size`` items (the same on every run and rank), or all."""
    total = len(dataset)  # type: ignore[arg-type]
    if size is None or size >= total:
        return dataset
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    return Subset(dataset, order[:size].tolist())


class ImageDataModule(SplitDataModule):
    """Base of the image datamodules: loaders, checks and the image geometry.

    Subclasses implement :meth:`make_datasets` (called once by :meth:`setup`) and may
    override :meth:`prepare_data` (download on rank 0). ``image_size`` and ``channels`` are
    init arguments so configs can write ``image_size: ${data.init_args.image_size}`` and
    ``channels: ${data.init_args.channels}`` in the networks.

    Args:
        batch_size: real images per training iteration.
        image_size: side of the square images the networks see.
        channels: 1 (grey) or 3 (RGB); colour data is converted, grey data replicated.
        center_crop: cut a centred square of this many pixels before resizing (None: no cut).
        val_size: how many held-out images to validate on (a fixed seeded subset);
            ``None`` keeps the whole held-out split.
        num_workers: DataLoader worker processes.
        seed: seed of the shuffling and of the subsets.
    """

    num_classes: int = 0

    def __init__(
        self,
        batch_size: int = 64,
        image_size: int = 32,
        channels: int = 3,
        center_crop: int | None = None,
        val_size: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        if val_size is not None and val_size < 0:
            raise ValueError(f"val_size must be >= 0 or null (whole held-out split), got {val_size}.")
        self.image_size = image_size
        self.channels = channels
        self.val_size = val_size
        self.center_crop = center_crop
        self.transform = image_transform(image_size, channels, center_crop)

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """Shape of one image, e.g. (3, 32, 32)."""
        return (self.channels, self.image_size, self.image_size)

    @abstractmethod
    def make_datasets(self) -> tuple[Dataset, Dataset]:
        """``(train, held_out)`` datasets of ``(image tensor, int label)`` pairs."""

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, held_out = self.make_datasets()
        self.check_batch_fits(len(train), unit="images")  # type: ignore[arg-type]
        self.train_set = train
        self.val_set = seeded_subset(held_out, self.val_size, self.seed)


def require_folder(path: Path, what: str, hint: str) -> None:
    """Raise :class:`DataNotFoundError` naming ``path`` unless it is a folder."""
    if not path.is_dir():
        raise DataNotFoundError(f"{what} not found: {path} is not a folder. {hint}")
