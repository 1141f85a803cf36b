"""Super-resolution data for SRGAN (Ledig et al. 2017): high-resolution (HR) crops and their
bicubic downsampling, made on the fly. Batches ``{"source": LR, "target": HR}`` in [-1, 1],
LR ``scale`` times smaller than HR (the MNIST demo,
:class:`gan_lightning.mnist.MNISTSuperResolutionDataModule`, adds ``"label"``). The bicubic
*upscaling* baseline is :func:`gan_lightning.metrics.bicubic_upscale`.
"""

from __future__ import annotations

from pathlib import Path

import torch.nn.functional as F
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.transforms.functional import pil_to_tensor

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import DataError, require_folder
from gan_lightning.data.translation import (
    EpochDataset,
    TranslationDataModule,
    check_positive,
    check_val_size,
    image_files,
    random_box,
    read_image,
    seeded_split,
    seeded_subset,
)

_HINT = "Set `data.init_args.root` to a folder that contains images."


def check_scale(scale: int, size: int, size_name: str) -> int:
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 2:
        raise ValueError(f"scale must be an integer >= 2, got {scale!r}.")
    if size % scale:
        raise ValueError(f"{size_name}={size} must be divisible by scale={scale}, e.g. {size - size % scale}.")
    return scale


def bicubic_downsample(images: Tensor, scale: int) -> Tensor:
    """(…, C, H, W) images in [-1, 1] made ``scale`` times smaller by antialiased bicubic
    resampling — the LR images of SRGAN (Ledig et al. 2017, Sec. 3.2: "bicubic kernel with
    downsampling factor r"), as MATLAB's ``imresize`` and PIL's ``BICUBIC`` filter them."""
    height, width = images.shape[-2:]
    if height % scale or width % scale:
        raise ValueError(f"image size {height}×{width} is not divisible by scale={scale}.")
    batch = images.reshape(-1, *images.shape[-3:])
    small = F.interpolate(batch, size=(height // scale, width // scale), mode="bicubic", antialias=True)
    return small.clamp(-1, 1).reshape(*images.shape[:-2], height // scale, width // scale)


def to_signed_tensor(image: Image.Image) -> Tensor:
    """A PIL image as a (C, H, W) float tensor in [-1, 1]."""
    return pil_to_tensor(image).float() / 127.5 - 1.0


class SuperResolutionDataset(EpochDataset):
    """``{"source": LR, "target": HR}``: HR a ``crop_size`` square — random (training) or
    centred (validation) — at the file's own resolution, LR its bicubic downsampling."""

    def __init__(
        self, files: list[Path], crop_size: int, scale: int, channels: int, random_crop: bool, seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.files, self.crop_size, self.scale = files, crop_size, scale
        self.mode = "L" if channels == 1 else "RGB"
        self.random_crop = random_crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        image = read_image(self.files[index]).convert(self.mode)
        size = self.crop_size
        if self.random_crop:
            top, left = random_box(image.height, image.width, size, self.generator(index))
        else:
            top, left = (image.height - size) // 2, (image.width - size) // 2
        target = to_signed_tensor(image.crop((left, top, left + size, top + size)))
        return {"source": bicubic_downsample(target, self.scale), "target": target}


class TooSmallImagesError(DataError, ValueError):
    """Images smaller than the HR crop."""


class SuperResolutionFolderDataModule(TranslationDataModule):
    """Any folder of images (searched recursively, as ``ImageFolderDataModule``) as SRGAN
    data: random ``crop_size`` HR crops for training (SRGAN: 96×96, batches of 16, Sec. 3.2),
    centred crops for validation, LR made on the fly by :func:`bicubic_downsample`.

    Args:
        root: the training images.
        scale: the upscaling factor (SRGAN: 4).
        crop_size: side of the HR crops; divisible by ``scale``. Every image must be at least this large.
        channels: 1 (grey) or 3 (RGB).
        val_root: a separate folder of held-out images (e.g. Set5, Set14, BSD100).
        val_size: with ``val_root``, a seeded subset of this many (null: all); without it,
            this many images of ``root`` held out (null: none).
        verify: decode-check every file at start-up; unreadable files are skipped with a warning.
        num_workers, seed: loader workers; seed of the split, the shuffle and the crops.
    """

    def __init__(
        self,
        root: str | Path,
        scale: int = 4,
        crop_size: int = 96,
        channels: int = 3,
        batch_size: int = 16,
        val_root: str | Path | None = None,
        val_size: int | None = None,
        verify: bool = True,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = Path(root).expanduser()
        self.val_root = Path(val_root).expanduser() if val_root is not None else None
        self.crop_size = check_positive("crop_size", crop_size)
        self.scale = check_scale(scale, crop_size, "crop_size")
        self.channels = check_channels(channels)
        self.val_size = check_val_size(val_size)
        self.verify = verify

    def prepare_data(self) -> None:
        require_folder(self.root, "Image folder", _HINT)
        if self.val_root is not None:
            require_folder(self.val_root, "Validation image folder", "Set `data.init_args.val_root` to a folder.")

    def images(self, folder: Path) -> list[Path]:
        """The images under ``folder``; any smaller than ``crop_size`` is an error naming it."""
        files = image_files(folder, "Image folder", _HINT, self.verify)
        small = []
        for path in files:
            with Image.open(path) as image:  # reads the header only
                if min(image.size) < self.crop_size:
                    small.append(f"{path} ({image.width}×{image.height})")
        if small:
            more = f" and {len(small) - 5} more" if len(small) > 5 else ""
            raise TooSmallImagesError(
                f"{len(small)} image(s) are smaller than crop_size={self.crop_size}: {', '.join(small[:5])}{more}. "
                "Lower `data.init_args.crop_size` or remove them."
            )
        return files

    def dataset(self, files: list[Path], train: bool) -> Dataset:
        return SuperResolutionDataset(
            files, self.crop_size, self.scale, self.channels, random_crop=train, seed=self.seed
        )

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        files = self.images(self.root)
        if self.val_root is not None:
            val_files = seeded_subset(self.images(self.val_root), self.val_size, self.seed)
        else:
            train_idx, val_idx = seeded_split(len(files), self.val_size or 0, self.seed)
            files, val_files = [files[i] for i in train_idx], [files[i] for i in val_idx]
        return self.dataset(files, train=True), self.dataset(val_files, train=False)
