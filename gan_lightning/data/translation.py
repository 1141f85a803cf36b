"""What the image-to-image datamodules (pix2pix, CycleGAN, SRGAN) share.

Batches are plain dicts (Lightning collates them): ``{"source", "target"}`` for paired data
and super-resolution, ``{"a", "b"}`` for unpaired data, each image a float tensor in
[-1, 1], plus ``"label"``/``"label_a"``/``"label_b"`` (int64) where the digit is known.

Per-item randomness — a jitter crop, a flip, which B image meets which A image — comes
from a generator seeded with ``(seed, epoch, index)`` (:func:`sample_generator`), never
from a global stream. An item is then the same whatever the number of loader workers, the
rank or the restart point: a resumed run, which skips the batches it already trained on,
sees exactly the batches of an uninterrupted one, and no augmentation draw shifts the
model's noise.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from gan_lightning.data.base import SplitDataModule, make_loader
from gan_lightning.data.image_data import DataNotFoundError, require_folder
from gan_lightning.data.image_folder import IMAGE_EXTENSIONS, FolderScan, scan_image_folder
from gan_lightning.data.resumable import ResumableDataLoader


def sample_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    """A generator for item ``index`` of ``epoch``: distinct keys for every index below 10⁹."""
    key = ((seed * 1_000_003 + epoch) * 1_000_000_007 + index) % 2**63
    return torch.Generator().manual_seed(key)


class EpochDataset(Dataset):
    """A dataset whose items may be random, drawn from :meth:`generator` — a function of
    ``(seed, epoch, index)``. :class:`EpochDataLoader` sets the epoch before each pass."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def generator(self, index: int) -> torch.Generator:
        return sample_generator(self.seed, self.epoch, index)


class EpochDataLoader(ResumableDataLoader):
    """A resumable loader that hands the sampler's epoch (set by Lightning, also on a
    ``DistributedSampler`` under DDP, and by ``load_state_dict`` on resume) to an
    :class:`EpochDataset` before each pass."""

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, EpochDataset):
            self.dataset.set_epoch(int(getattr(self.sampler, "epoch", 0) or 0))
        yield from super().__iter__()


class TranslationDataModule(SplitDataModule):
    """Base of the image-to-image datamodules: :meth:`make_datasets` builds the training
    and held-out sets once; their loaders give each item its epoch.

    ``channels`` (of every image) and ``num_classes`` (0 where there are no labels) are
    attributes for configs and tasks to read.
    """

    channels: int = 3

    def __init__(self, batch_size: int, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)

    @abstractmethod
    def make_datasets(self) -> tuple[Dataset, Dataset]:
        """``(train, held_out)`` datasets of dict items."""

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, held_out = self.make_datasets()
        self.check_batch_fits(len(train))  # type: ignore[arg-type]
        self.train_set, self.val_set = train, held_out

    def _loader(self, dataset: Dataset, shuffle: bool, batch_size: int | None = None) -> DataLoader:
        """The shared resumable loader, handing each pass its epoch; workers are started
        afresh each epoch: a persistent worker would keep the first epoch's copy of the
        dataset and repeat its crops forever."""
        return make_loader(
            dataset,
            batch_size or self.batch_size,
            shuffle,
            self.num_workers,
            self.seed,
            loader_class=EpochDataLoader,
            persistent_workers=False,
        )


class TensorDictDataset(Dataset):
    """Items ``{name: tensor[i]}`` from equal-length tensors: the in-memory demos' datasets."""

    def __init__(self, **tensors: Tensor) -> None:
        lengths = {name: len(tensor) for name, tensor in tensors.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"tensors of different lengths: {lengths}.")
        self.tensors = tensors

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {name: tensor[index] for name, tensor in self.tensors.items()}


def check_positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def check_choice(name: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def check_val_size(val_size: int | None) -> int | None:
    if val_size is not None and val_size < 0:
        raise ValueError(f"val_size must be >= 0 or null, got {val_size}.")
    return val_size


def check_held_out(val_size: int) -> int:
    if not isinstance(val_size, int) or val_size < 0:
        raise ValueError(f"val_size must be an integer >= 0, got {val_size!r}.")
    return val_size


def seeded_split(total: int, held_out: int, seed: int) -> tuple[Tensor, Tensor]:
    """``(train, held-out)`` indices from the permutation that
    :class:`~gan_lightning.data.base.InMemoryDataModule` uses: with the same seed and size,
    the MNIST-5k demos (:mod:`gan_lightning.mnist`) hold out the same digits as
    ``MNIST5kDataModule``, on every run and rank."""
    if held_out >= total:
        raise ValueError(f"val_size={held_out} leaves no training data ({total} in all): lower it.")
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    return order[held_out:], order[:held_out]


def seeded_subset(items: list, size: int | None, seed: int) -> list:
    """A fixed random subset of ``size`` items (all of them when ``size`` is None or larger), order kept."""
    if size is None or size >= len(items):
        return items
    chosen = torch.randperm(len(items), generator=torch.Generator().manual_seed(seed))[:size]
    return [items[i] for i in sorted(chosen.tolist())]


def jitter_size(image_size: int) -> int:
    """The size pix2pix and CycleGAN resize to before a random ``image_size`` crop: 286 for
    256 (Isola et al. 2017, Sec. 6.2; Zhu et al. 2017, Sec. 7), the same ratio otherwise."""
    return round(image_size * 286 / 256)


def random_box(height: int, width: int, size: int, generator: torch.Generator) -> tuple[int, int]:
    """Top-left corner of a uniformly random ``size`` × ``size`` window."""
    top = int(torch.randint(height - size + 1, (1,), generator=generator))
    left = int(torch.randint(width - size + 1, (1,), generator=generator))
    return top, left


def random_jitter(images: Sequence[Tensor], size: int, generator: torch.Generator) -> list[Tensor]:
    """The same random ``size`` crop and the same coin-flip mirroring for every (C, H, W)
    image — a source and its target stay aligned (pix2pix's random jitter, Isola et al. 2017, Sec. 6.2)."""
    height, width = images[0].shape[-2:]
    top, left = random_box(height, width, size, generator)
    mirror = bool(torch.rand((), generator=generator) < 0.5)
    crops = [image[..., top : top + size, left : left + size] for image in images]
    return [crop.flip(-1) if mirror else crop for crop in crops]


def read_image(path: Path) -> Image.Image:
    """Decode ``path`` now, so a truncated file fails here and names itself."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except OSError as error:
        raise OSError(f"Could not read image {path}: {error}. Delete or replace it.") from None


def image_files(folder: Path, what: str, hint: str, verify: bool) -> list[Path]:
    """The readable images under ``folder`` (recursive, sorted). Other files are skipped with
    one warning; a missing or empty folder is a :class:`DataNotFoundError` naming it."""
    require_folder(folder, what, hint)
    scan: FolderScan = scan_image_folder(folder, verify=verify)
    if scan.rejected:
        listed = "; ".join(f"{path} ({reason})" for path, reason in scan.rejected[:5])
        rank_zero_warn(f"Skipped {len(scan.rejected)} file(s) under {folder} that are not readable images: {listed}.")
    if not scan.files:
        raise DataNotFoundError(
            f"{what} has no images: {folder} (searched recursively for {', '.join(IMAGE_EXTENSIONS)}). {hint}"
        )
    return scan.files
