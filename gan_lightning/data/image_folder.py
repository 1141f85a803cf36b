"""Any folder of images as GAN training data.

The folder is searched recursively. Images directly inside it or at any depth are used;
when every image lies inside a top-level subfolder, those subfolders are the classes
(``root/cats/*.png``, ``root/dogs/*.png`` → labels 0 and 1), otherwise every label is 0.
Hidden files and folders (``.DS_Store``, ``.ipynb_checkpoints``) are ignored.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Subset

from gan_lightning.data.image_data import DataNotFoundError, ImageDataModule, UnreadableImagesError, require_folder

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


@dataclass
class FolderScan:
    """What :func:`scan_image_folder` found: readable images, their labels, the class
    names, and the files it rejected with the reason."""

    files: list[Path] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _unreadable_reason(path: Path) -> str | None:
    """Why PIL cannot decode ``path``, or None if it can (header and structure checked)."""
    try:
        with Image.open(path) as image:
            image.verify()
    except Exception as error:  # PIL raises OSError, SyntaxError, ValueError ... for bad files
        return f"not a readable image ({type(error).__name__}: {error})"
    return None


def scan_image_folder(root: Path, extensions: Sequence[str] = IMAGE_EXTENSIONS, verify: bool = True) -> FolderScan:
    """Every image under ``root`` (sorted, so the order is the same on every machine).

    Files with other extensions are rejected as "not an image file"; with ``verify``, files
    PIL cannot decode are rejected as corrupt.
    """
    allowed = tuple(ext.lower() for ext in extensions)
    found: list[Path] = []
    rejected: list[tuple[Path, str]] = []
    for folder, subfolders, names in os.walk(root, followlinks=True):
        subfolders[:] = sorted(name for name in subfolders if not _is_hidden(name))
        for name in sorted(names):
            if _is_hidden(name):
                continue
            path = Path(folder) / name
            if not name.lower().endswith(allowed):
                rejected.append((path, "not an image file (extension)"))
                continue
            reason = _unreadable_reason(path) if verify else None
            if reason:
                rejected.append((path, reason))
            else:
                found.append(path)

    top_levels = [path.relative_to(root).parts for path in found]
    if found and all(len(parts) > 1 for parts in top_levels):
        classes = sorted({parts[0] for parts in top_levels})
        index = {name: i for i, name in enumerate(classes)}
        labels = [index[parts[0]] for parts in top_levels]
    else:
        classes, labels = [], [0] * len(found)
    return FolderScan(files=found, labels=labels, classes=classes, rejected=rejected)


class ImageFileDataset(Dataset):
    """``(transform(image), label)`` read from a list of files on each access."""

    def __init__(
        self, files: Sequence[Path], labels: Sequence[int], transform: Callable[[Image.Image], Tensor]
    ) -> None:
        if len(files) != len(labels):
            raise ValueError(f"{len(files)} files but {len(labels)} labels.")
        self.files = list(files)
        self.labels = list(labels)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        path = self.files[index]
        try:
            with Image.open(path) as image:
                image.load()
                sample = self.transform(image)
        except OSError as error:
            raise OSError(
                f"Could not read image {path}: {error}. Delete or replace it (a scan with "
                "`on_bad_file: skip` skips files PIL rejects, but some truncated files only fail here)."
            ) from None
        return sample, self.labels[index]


class ImageFolderDataModule(ImageDataModule):
    """Images from any folder, resized (shorter side) and centre-cropped to ``image_size``.

    Args:
        root: the folder to search recursively.
        on_bad_file: ``skip`` non-image and corrupt files with one warning that counts them
            and names a few, or ``error`` to stop at start-up listing them.
        verify: decode-check every file at start-up (one pass over the folder; turn off
            for very large, trusted folders).
        val_size: images held out from training for validation (a fixed seeded split).
        Others: see :class:`~gan_lightning.data.image_data.ImageDataModule`.
    """

    def __init__(
        self,
        root: str | Path,
        batch_size: int = 64,
        image_size: int = 64,
        channels: int = 3,
        center_crop: int | None = None,
        val_size: int = 0,
        on_bad_file: Literal["skip", "error"] = "skip",
        verify: bool = True,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        if on_bad_file not in ("skip", "error"):
            raise ValueError(f"on_bad_file must be 'skip' or 'error', got {on_bad_file!r}.")
        super().__init__(
            batch_size=batch_size,
            image_size=image_size,
            channels=channels,
            center_crop=center_crop,
            val_size=val_size,
            num_workers=num_workers,
            seed=seed,
        )
        self.root = Path(root).expanduser()
        self.on_bad_file = on_bad_file
        self.verify = verify
        self.classes: list[str] = []

    def scan(self) -> FolderScan:
        """Find the images and apply the ``on_bad_file`` policy."""
        require_folder(self.root, "Image folder", "Set `data.init_args.root` to a folder that contains images.")
        scan = scan_image_folder(self.root, verify=self.verify)
        if scan.rejected:
            listed = "; ".join(f"{path} ({reason})" for path, reason in scan.rejected[:5])
            more = f"; and {len(scan.rejected) - 5} more" if len(scan.rejected) > 5 else ""
            if self.on_bad_file == "error":
                raise UnreadableImagesError(
                    f"{len(scan.rejected)} file(s) under {self.root} are not readable images: {listed}{more}. "
                    "Remove them, or set `data.init_args.on_bad_file: skip` to train without them."
                )
            rank_zero_warn(
                f"Skipped {len(scan.rejected)} file(s) under {self.root} that are not readable images: {listed}{more}."
            )
        if not scan.files:
            raise DataNotFoundError(
                f"No images found under {self.root} (searched recursively for {', '.join(IMAGE_EXTENSIONS)}). "
                "Set `data.init_args.root` to a folder that contains images."
            )
        return scan

    def prepare_data(self) -> None:
        require_folder(self.root, "Image folder", "Set `data.init_args.root` to a folder that contains images.")

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        scan = self.scan()
        self.classes = scan.classes
        self.num_classes = len(scan.classes)
        dataset = ImageFileDataset(scan.files, scan.labels, self.transform)
        val_size = self.val_size or 0
        if val_size >= len(dataset):
            raise ValueError(f"val_size={val_size} leaves no training images ({len(dataset)} images in all).")
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(self.seed)).tolist()
        return Subset(dataset, order[val_size:]), Subset(dataset, order[:val_size])
