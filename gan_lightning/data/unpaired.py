"""Unpaired image-to-image data for CycleGAN (Zhu et al. 2017): images of domain A and images
of domain B, with no correspondence between them. Batches ``{"a", "b"}`` in [-1, 1] (the MNIST
demo, :class:`gan_lightning.mnist.MNISTStylesDataModule`, adds ``"label_a"``, ``"label_b"``).

Folder layout: the CycleGAN data sets' own — ``root/trainA/``, ``root/trainB/`` for
training, ``root/testA/``, ``root/testB/`` for validation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Subset

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import image_transform, require_folder
from gan_lightning.data.translation import (
    EpochDataset,
    TensorDictDataset,
    TranslationDataModule,
    check_positive,
    check_val_size,
    image_files,
    jitter_size,
    random_jitter,
    read_image,
    seeded_subset,
)

_HINT = "Set `data.init_args.root` to a folder with trainA/, trainB/ (and testA/, testB/) inside."


class UnpairedDataset(EpochDataset):
    """Item ``i`` is A image ``i mod |A|`` with a B image taken from a fresh permutation of B
    each epoch, so no A image keeps a partner. An epoch has max(|A|, |B|) items, as CycleGAN's
    ``UnalignedDataset`` (Zhu et al. 2017, official code). Domain items are dicts with
    ``"image"`` and optionally ``"label"``. With ``crop_size``, a and b each get their own
    random crop and mirroring (Sec. 7: resize to 286, random crop 256)."""

    def __init__(self, domain_a: Dataset, domain_b: Dataset, crop_size: int | None = None, seed: int = 0) -> None:
        super().__init__(seed)
        self.domain_a, self.domain_b = domain_a, domain_b
        self.sizes = (len(domain_a), len(domain_b))  # type: ignore[arg-type]
        if min(self.sizes) == 0:
            raise ValueError(f"both domains need images, got {self.sizes[0]} in A and {self.sizes[1]} in B.")
        self.crop_size = crop_size
        self._order: tuple[int, Tensor] | None = None

    def __len__(self) -> int:
        return max(self.sizes)

    def order_b(self) -> Tensor:
        """This epoch's permutation of B; its key uses index ``len(self)``, which no item has."""
        if self._order is None or self._order[0] != self.epoch:
            self._order = (self.epoch, torch.randperm(self.sizes[1], generator=self.generator(len(self))))
        return self._order[1]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        item_a = self.domain_a[index % self.sizes[0]]
        item_b = self.domain_b[int(self.order_b()[index % self.sizes[1]])]
        a, b = item_a["image"], item_b["image"]
        if self.crop_size is not None:
            generator = self.generator(index)
            (a,), (b,) = random_jitter([a], self.crop_size, generator), random_jitter([b], self.crop_size, generator)
        batch = {"a": a, "b": b}
        batch.update(
            {f"label_{name}": item["label"] for name, item in (("a", item_a), ("b", item_b)) if "label" in item}
        )
        return batch


class ImageFiles(Dataset):
    """``{"image": transform(file)}`` for a list of image files."""

    def __init__(self, files: list[Path], transform: Callable[[Image.Image], Tensor]) -> None:
        self.files, self.transform = files, transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {"image": self.transform(read_image(self.files[index]))}


class UnpairedImageFolderDataModule(TranslationDataModule):
    """Unpaired images for CycleGAN (Zhu et al. 2017) in its data sets' layout: ``trainA/``,
    ``trainB/`` (required) and ``testA/``, ``testB/`` (validation; without them, none).

    Args:
        root: the data set folder.
        image_size: side of the square images (shorter side resized, centre crop).
        channels: 1 (grey) or 3 (RGB), for both domains.
        batch_size: CycleGAN trains with 1 (Sec. 7).
        jitter: resize to 286/256 of ``image_size``, random crop and mirroring, per image (Sec. 7).
        val_size: a seeded subset of this many validation items (null: all, max(|testA|, |testB|)).
        verify: decode-check every file at start-up; unreadable files are skipped with a warning.
        num_workers, seed: loader workers; seed of the shuffle, the B permutations and the jitter.
    """

    def __init__(
        self,
        root: str | Path,
        image_size: int = 256,
        channels: int = 3,
        batch_size: int = 1,
        jitter: bool = False,
        val_size: int | None = None,
        verify: bool = True,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = Path(root).expanduser()
        self.image_size = check_positive("image_size", image_size)
        self.channels = check_channels(channels)
        self.jitter = bool(jitter)
        self.val_size = check_val_size(val_size)
        self.verify = verify

    def prepare_data(self) -> None:
        require_folder(self.root, "Unpaired data folder", _HINT)

    def domain(self, name: str, train: bool) -> Dataset:
        size = jitter_size(self.image_size) if self.jitter and train else self.image_size
        files = image_files(self.root / name, f"Domain folder {name}", _HINT, self.verify)
        return ImageFiles(files, image_transform(size, self.channels))

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        require_folder(self.root, "Unpaired data folder", _HINT)
        crop = self.image_size if self.jitter else None
        train = UnpairedDataset(self.domain("trainA", True), self.domain("trainB", True), crop, seed=self.seed)
        if not ((self.root / "testA").is_dir() and (self.root / "testB").is_dir()):
            rank_zero_warn(f"No testA/ and testB/ under {self.root}: training without validation.")
            return train, TensorDictDataset(a=torch.empty(0))
        held_out = UnpairedDataset(self.domain("testA", False), self.domain("testB", False), seed=self.seed)
        if self.val_size is not None:
            held_out = Subset(held_out, seeded_subset(list(range(len(held_out))), self.val_size, self.seed))
        return train, held_out
