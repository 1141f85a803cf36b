"""Paired image-to-image data for pix2pix (Isola et al. 2017): each source image comes with
the target the generator should make from it. Batches: ``{"source", "target"}`` in [-1, 1]
(the MNIST demo, :class:`gan_lightning.mnist.MNISTPairsDataModule`, adds ``"label"``).

Folder layouts (``root``):

- ``layout: folders`` — ``A/`` and ``B/`` holding the same file names (extension ignored,
  subfolders allowed: ``A/x/1.png`` pairs with ``B/x/1.jpg``), in ``root/train/`` if that
  exists, else in ``root`` itself.
- ``layout: side_by_side`` — the pix2pix data sets' own layout (facades, maps, edges2shoes):
  ``root/train/``, ``root/val/``, ``root/test/``, each file A (left half) and B (right half)
  side by side.

Held-out pairs come from ``root/<held_out>/`` (default ``val``; with ``A/`` and ``B/``
inside for ``folders``) when it exists, else ``val_size`` pairs are split off the training
pairs by a seeded permutation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import DataError, image_transform, require_folder
from gan_lightning.data.translation import (
    EpochDataset,
    TranslationDataModule,
    check_choice,
    check_positive,
    check_val_size,
    image_files,
    jitter_size,
    random_jitter,
    read_image,
    seeded_split,
    seeded_subset,
)

Pair = tuple[Path, Path | None]  # (A file, B file), or (side-by-side file, None)
_HINT = "Set `data.init_args.root` to the paired data set (see docs/data.md, 'Paired images')."


class UnmatchedPairsError(DataError, ValueError):
    """Files in ``A/`` without a partner in ``B/`` (or the reverse), or two files with one name."""


def _by_name(folder: Path, files: list[Path]) -> dict[str, Path]:
    """Files keyed by their path under ``folder`` without the extension."""
    keyed: dict[str, Path] = {}
    for path in files:
        key = path.relative_to(folder).with_suffix("").as_posix()
        if key in keyed:
            raise UnmatchedPairsError(
                f"{keyed[key]} and {path} have the same name: pairs are matched by name, keep one."
            )
        keyed[key] = path
    return keyed


def _listed(paths: list[Path]) -> str:
    more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
    return ", ".join(str(path) for path in paths[:5]) + more


def match_by_name(folder_a: Path, folder_b: Path, verify: bool = True) -> list[Pair]:
    """Pairs of ``folder_a``/``folder_b`` files with the same relative name, sorted; any
    file without a partner is an :class:`UnmatchedPairsError` that names it."""
    files_a = _by_name(folder_a, image_files(folder_a, "Folder A", _HINT, verify))
    files_b = _by_name(folder_b, image_files(folder_b, "Folder B", _HINT, verify))
    only_a = [files_a[key] for key in sorted(files_a.keys() - files_b.keys())]
    only_b = [files_b[key] for key in sorted(files_b.keys() - files_a.keys())]
    if only_a or only_b:
        sides = [f"{len(only_a)} in {folder_a} have no partner in {folder_b}: {_listed(only_a)}"] if only_a else []
        sides += [f"{len(only_b)} in {folder_b} have no partner in {folder_a}: {_listed(only_b)}"] if only_b else []
        raise UnmatchedPairsError(
            f"Unmatched files ({'; '.join(sides)}). A and B files pair by name (extension ignored): rename or remove them."
        )
    return [(files_a[key], files_b[key]) for key in sorted(files_a)]


def _same_aspect(a: Image.Image, b: Image.Image) -> bool:
    return abs(a.width * b.height - b.width * a.height) <= 0.01 * a.height * b.width


class PairedImageDataset(EpochDataset):
    """``{"source", "target"}`` read from file pairs: resized (shorter side) and centre-cropped
    to ``image_size``, or with ``jitter`` to :func:`jitter_size` then cropped back at one random
    place and mirrored together (Isola et al. 2017, Sec. 6.2)."""

    def __init__(
        self,
        pairs: list[Pair],
        image_size: int,
        source_channels: int,
        target_channels: int,
        swap: bool = False,
        jitter: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.pairs = pairs
        self.image_size = image_size
        self.swap = swap
        self.jitter = jitter
        load_size = jitter_size(image_size) if jitter else image_size
        self.source_transform = image_transform(load_size, source_channels)
        self.target_transform = image_transform(load_size, target_channels)

    def __len__(self) -> int:
        return len(self.pairs)

    def read(self, index: int) -> tuple[Image.Image, Image.Image]:
        """Images A and B of pair ``index``: the left and right halves of a side-by-side file."""
        path_a, path_b = self.pairs[index]
        if path_b is None:
            both = read_image(path_a)
            half = both.width // 2
            return both.crop((0, 0, half, both.height)), both.crop((half, 0, both.width, both.height))
        a, b = read_image(path_a), read_image(path_b)
        if not _same_aspect(a, b):
            raise ValueError(
                f"{path_a} ({a.width}×{a.height}) and {path_b} ({b.width}×{b.height}) differ in aspect ratio, "
                "so they cannot stay aligned when resized: crop them alike."
            )
        return a, b

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        a, b = self.read(index)
        source, target = (b, a) if self.swap else (a, b)
        images = [self.source_transform(source), self.target_transform(target)]
        if self.jitter:
            images = random_jitter(images, self.image_size, self.generator(index))
        return {"source": images[0], "target": images[1]}


class PairedImageFolderDataModule(TranslationDataModule):
    """Paired images for pix2pix (Isola et al. 2017), from ``A/``+``B/`` folders or the pix2pix
    data sets' side-by-side files (layouts in the module docstring).

    Args:
        root: the data set folder.
        layout: ``folders`` (``A/``, ``B/`` with matching names) or ``side_by_side`` (A left, B right).
        direction: ``AtoB`` (source A, target B) or ``BtoA`` (e.g. facades labels → photos).
        image_size: side of the square images (shorter side resized, centre crop).
        source_channels, target_channels: 1 (grey) or 3 (RGB) — of the source and target
            after ``direction`` is applied; ``channels`` is the target's.
        batch_size: pix2pix trains with 1 (Sec. 6.2: batch norm then acts as instance norm).
        jitter: random jitter on training pairs — resize to 286/256 of ``image_size``,
            random crop, random mirroring, the same for source and target (Sec. 6.2).
        held_out: the subfolder of held-out pairs (``val``; ``test`` also fits the pix2pix sets;
            null: always split off ``val_size`` training pairs).
        val_size: with a held-out folder, a seeded subset of this many (null: all); without
            one, this many training pairs split off (null: none).
        verify: decode-check every file at start-up; unreadable files are skipped with a warning.
        num_workers, seed: loader workers; seed of the split, the shuffle and the jitter.
    """

    def __init__(
        self,
        root: str | Path,
        layout: Literal["folders", "side_by_side"] = "folders",
        direction: Literal["AtoB", "BtoA"] = "AtoB",
        image_size: int = 256,
        source_channels: int = 3,
        target_channels: int = 3,
        batch_size: int = 1,
        jitter: bool = False,
        held_out: str | None = "val",
        val_size: int | None = None,
        verify: bool = True,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = Path(root).expanduser()
        self.layout = check_choice("layout", layout, ("folders", "side_by_side"))
        self.direction = check_choice("direction", direction, ("AtoB", "BtoA"))
        self.image_size = check_positive("image_size", image_size)
        self.source_channels = check_channels(source_channels)
        self.target_channels = self.channels = check_channels(target_channels)
        self.jitter = bool(jitter)
        self.held_out = held_out
        self.val_size = check_val_size(val_size)
        self.verify = verify

    def prepare_data(self) -> None:
        require_folder(self.root, "Paired data folder", _HINT)

    def train_folder(self) -> Path:
        train = self.root / "train"
        if self.layout == "side_by_side":
            require_folder(train, "Training folder of the side-by-side layout", _HINT)
            return train
        return train if train.is_dir() else self.root

    def find_pairs(self, folder: Path) -> list[Pair]:
        if self.layout == "side_by_side":
            return [(path, None) for path in image_files(folder, "Side-by-side folder", _HINT, self.verify)]
        return match_by_name(folder / "A", folder / "B", self.verify)

    def dataset(self, pairs: list[Pair], train: bool) -> Dataset:
        return PairedImageDataset(
            pairs,
            self.image_size,
            self.source_channels,
            self.target_channels,
            swap=self.direction == "BtoA",
            jitter=self.jitter and train,
            seed=self.seed,
        )

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        require_folder(self.root, "Paired data folder", _HINT)
        train_pairs = self.find_pairs(self.train_folder())
        held_out = self.root / self.held_out if self.held_out else None
        if held_out is not None and held_out.is_dir():
            val_pairs = seeded_subset(self.find_pairs(held_out), self.val_size, self.seed)
        else:
            train_idx, val_idx = seeded_split(len(train_pairs), self.val_size or 0, self.seed)
            train_pairs, val_pairs = [train_pairs[i] for i in train_idx], [train_pairs[i] for i in val_idx]
        return self.dataset(train_pairs, train=True), self.dataset(val_pairs, train=False)
