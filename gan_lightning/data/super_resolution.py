"""Super-resolution data for SRGAN (Ledig et al. 2017): high-resolution (HR) crops and their
bicubic downsampling, made on the fly. Batches ``{"source": LR, "target": HR}`` in [-1, 1],
LR ``scale`` times smaller than HR (the MNIST demo,
:class:`gan_lightning.mnist.MNISTSuperResolutionDataModule`, adds ``"label"``). The bicubic
*upscaling* baseline is :func:`gan_lightning.metrics.bicubic_upscale`.

SR data sets are a few hundred large photos (DIV2K: 800 of 2K) or fewer, so an epoch draws
``crops_per_image`` random crops from each (:class:`SuperResolutionDataset`), each placed by
``(seed, epoch, index)`` alone: a resumed run, which skips the batches it trained on, gets the
crops of an uninterrupted one. The held-out set is fixed tiles of the held-out images
(:class:`HeldOutTiles`), so a handful of photos gives a PSNR worth reading.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
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


class DecodedImages:
    """The last ``capacity`` decoded images, as (C, H, W) uint8 tensors: many crops of one
    large photo then cost one JPEG/PNG decode, not one each (each loader worker keeps its own;
    16 DIV2K photos are 130 MB)."""

    def __init__(self, mode: str, capacity: int = 16) -> None:
        self.mode, self.capacity = mode, capacity
        self.images: OrderedDict[Path, Tensor] = OrderedDict()

    def __getitem__(self, path: Path) -> Tensor:
        if path in self.images:
            self.images.move_to_end(path)
        else:
            self.images[path] = pil_to_tensor(read_image(path).convert(self.mode))
            if len(self.images) > self.capacity:
                self.images.popitem(last=False)
        return self.images[path]


def sr_pair(image: Tensor, top: int, left: int, size: int, scale: int) -> dict[str, Tensor]:
    """``{"source": LR, "target": HR}`` in [-1, 1]: HR the ``size`` square at (top, left) of a
    uint8 ``image``, LR its bicubic downsampling."""
    target = image[:, top : top + size, left : left + size].float() / 127.5 - 1.0
    return {"source": bicubic_downsample(target, scale), "target": target}


class SuperResolutionDataset(EpochDataset):
    """``crops_per_image`` random ``crop_size`` HR squares of each file per epoch, at the
    file's own resolution, with their bicubic downsampling as LR. Item ``i`` is a crop of file
    ``i // crops_per_image`` at a place drawn from ``(seed, epoch, i)``: the same for any
    worker count or restart point, new each epoch."""

    def __init__(
        self, files: list[Path], crop_size: int, scale: int, channels: int, crops_per_image: int = 1, seed: int = 0
    ) -> None:
        super().__init__(seed)
        self.files, self.crop_size, self.scale = files, crop_size, scale
        self.crops_per_image = crops_per_image
        self.decoded = DecodedImages("L" if channels == 1 else "RGB")

    def __len__(self) -> int:
        return len(self.files) * self.crops_per_image

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        image = self.decoded[self.files[index // self.crops_per_image]]
        top, left = random_box(image.shape[-2], image.shape[-1], self.crop_size, self.generator(index))
        return sr_pair(image, top, left, self.crop_size, self.scale)


def grid_tiles(height: int, width: int, size: int, limit: int | None = None) -> list[tuple[int, int]]:
    """Top-left corners of the non-overlapping ``size`` tiles of a centred grid over a
    ``height`` × ``width`` image, row by row; with ``limit``, that many spread evenly over the grid."""
    rows, cols = height // size, width // size
    top, left = (height - rows * size) // 2, (width - cols * size) // 2
    corners = [(top + r * size, left + c * size) for r in range(rows) for c in range(cols)]
    if limit is None or limit >= len(corners):
        return corners
    chosen = torch.linspace(0, len(corners) - 1, limit).round().long().tolist()
    return [corners[i] for i in chosen]


class HeldOutTiles(Dataset):
    """The fixed held-out set: the :func:`grid_tiles` of every held-out file (at most
    ``tiles_per_image`` each), so a few held-out photos give enough tiles to read a PSNR."""

    def __init__(
        self,
        files: list[Path],
        sizes: list[tuple[int, int]],
        crop_size: int,
        scale: int,
        channels: int,
        tiles_per_image: int | None = None,
    ) -> None:
        self.crop_size, self.scale = crop_size, scale
        self.tiles = [
            (path, top, left)
            for path, (height, width) in zip(files, sizes, strict=True)
            for top, left in grid_tiles(height, width, crop_size, tiles_per_image)
        ]
        self.decoded = DecodedImages("L" if channels == 1 else "RGB", capacity=2)

    def __len__(self) -> int:
        return len(self.tiles)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        path, top, left = self.tiles[index]
        return sr_pair(self.decoded[path], top, left, self.crop_size, self.scale)


class TooSmallImagesError(DataError, ValueError):
    """Images smaller than the HR crop."""


class TooFewImagesError(DataError, ValueError):
    """Holding out ``val_size`` images of ``root`` leaves none to train on."""


class SuperResolutionFolderDataModule(TranslationDataModule):
    """Any folder of images (searched recursively, as ``ImageFolderDataModule``) as SRGAN
    data: ``crops_per_image`` random ``crop_size`` HR crops of each training image per epoch
    (SRGAN: 96×96, batches of 16, Sec. 3.2), LR made on the fly by :func:`bicubic_downsample`.

    A few large photos are a training set: one epoch draws many crops from each, so a folder
    of one photo fills a batch of 16. The held-out set is fixed: the non-overlapping tiles of
    a centred grid over each held-out image (:class:`HeldOutTiles`), e.g. 24 tiles of 96 px
    from one 640×427 photo — enough to read a PSNR beside bicubic's.

    Args:
        root: the training images.
        scale: the upscaling factor (SRGAN: 4).
        crop_size: side of the HR crops and held-out tiles; divisible by ``scale``. Every
            image must be at least this large.
        channels: 1 (grey) or 3 (RGB).
        crops_per_image: random crops drawn from each training image per epoch.
        val_root: a separate folder of held-out images (e.g. Set5, Set14, BSD100).
        val_size: with ``val_root``, a seeded subset of this many (null: all); without it,
            this many images of ``root`` held out (null or 0: none).
        val_tiles_per_image: at most this many held-out tiles per image, spread evenly over
            its grid (null: every tile), to bound validation on large photos.
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
        crops_per_image: int = 16,
        val_root: str | Path | None = None,
        val_size: int | None = None,
        val_tiles_per_image: int | None = None,
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
        self.crops_per_image = check_positive("crops_per_image", crops_per_image)
        self.val_size = check_val_size(val_size)
        self.val_tiles_per_image = (
            None if val_tiles_per_image is None else check_positive("val_tiles_per_image", val_tiles_per_image)
        )
        self.verify = verify

    def prepare_data(self) -> None:
        require_folder(self.root, "Image folder", _HINT)
        if self.val_root is not None:
            require_folder(self.val_root, "Validation image folder", "Set `data.init_args.val_root` to a folder.")

    def images(self, folder: Path) -> tuple[list[Path], list[tuple[int, int]]]:
        """The images under ``folder`` and their (height, width); any smaller than
        ``crop_size`` is an error naming it."""
        files = image_files(folder, "Image folder", _HINT, self.verify)
        sizes = [image_size(path) for path in files]
        small = [
            f"{path} ({width}×{height})"
            for path, (height, width) in zip(files, sizes, strict=True)
            if min(height, width) < self.crop_size
        ]
        if small:
            more = f" and {len(small) - 5} more" if len(small) > 5 else ""
            raise TooSmallImagesError(
                f"{len(small)} image(s) are smaller than crop_size={self.crop_size}: {', '.join(small[:5])}{more}. "
                "Lower `data.init_args.crop_size` or remove them."
            )
        return files, sizes

    def check_batch_fits(self, train_size: int, unit: str = "samples") -> None:
        if self.batch_size > train_size:
            images = train_size // self.crops_per_image
            raise ValueError(
                f"batch_size={self.batch_size} is more than one epoch's {train_size} crops ({images} images × "
                f"crops_per_image={self.crops_per_image}): raise `data.init_args.crops_per_image` or lower the batch size."
            )

    def held_out_split(self, count: int) -> tuple[list[int], list[int]]:
        """Indices (train, held-out) of the ``root`` images when there is no ``val_root``."""
        held_out = self.val_size or 0
        if held_out >= count:
            raise TooFewImagesError(
                f"{count} image(s) under {self.root} and val_size={held_out} held out leave none to train on: "
                "hold out another folder (`data.init_args.val_root`) or set `data.init_args.val_size=0`."
            )
        train_idx, val_idx = seeded_split(count, held_out, self.seed)
        return train_idx.tolist(), val_idx.tolist()

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        files, sizes = self.images(self.root)
        if self.val_root is not None:
            val_files, val_sizes = self.images(self.val_root)
            chosen = seeded_subset(list(range(len(val_files))), self.val_size, self.seed)
        else:
            train_idx, chosen = self.held_out_split(len(files))
            val_files, val_sizes = files, sizes
            files = [files[i] for i in train_idx]
        train = SuperResolutionDataset(
            files, self.crop_size, self.scale, self.channels, self.crops_per_image, seed=self.seed
        )
        held_out = HeldOutTiles(
            [val_files[i] for i in chosen],
            [val_sizes[i] for i in chosen],
            self.crop_size,
            self.scale,
            self.channels,
            self.val_tiles_per_image,
        )
        return train, held_out


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image file, from its header alone."""
    with Image.open(path) as image:
        return image.height, image.width
