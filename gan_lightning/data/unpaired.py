"""Unpaired image-to-image data for CycleGAN (Zhu et al. 2017): images of domain A and images
of domain B, with no correspondence between them. Batches ``{"a", "b"}`` in [-1, 1] (plus
``"label_a"``, ``"label_b"`` for the MNIST-5k demo).

Folder layout: the CycleGAN data sets' own — ``root/trainA/``, ``root/trainB/`` for
training, ``root/testA/``, ``root/testB/`` for validation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, Subset

from gan_lightning.data.base import scale_images
from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import image_transform, require_folder
from gan_lightning.data.translation import (
    MNIST_SIZE,
    EpochDataset,
    TensorDictDataset,
    TranslationDataModule,
    as_channels,
    check_choice,
    check_held_out,
    check_positive,
    check_val_size,
    image_files,
    jitter_size,
    mnist5k_digits,
    random_jitter,
    read_image,
    seeded_split,
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


STYLES = ("thick", "inverted", "thick_inverted")
BACKGROUND_THRESHOLD = 0.5
"""Mean intensity in [0, 1] of the 2-pixel frame (at 28 px) above which a digit image counts
as inverted: MNIST digits sit on a black background that no stroke reaches, even thickened."""
STROKE_THRESHOLD = 0.5
"""Fraction of ink surviving a 3×3 erosion at 28 px above which strokes count as thick
(MNIST-5k at 32 px: plain median 0.09, 99th percentile 0.49; thickened minimum 0.52)."""


def thicken(images: Tensor) -> Tensor:
    """Grey dilation by a (2r+1)² max-pool, r = round(2·size/28): strokes about 4 px wider
    at MNIST's 28 px, the same look at any image size."""
    radius = max(1, round(2 * images.shape[-1] / MNIST_SIZE))
    return F.max_pool2d(images, 2 * radius + 1, stride=1, padding=radius)


def apply_style(images: Tensor, style: str) -> Tensor:
    """(N, C, H, W) digits in [-1, 1] rendered in ``style`` (``plain`` leaves them as they
    are): domain B of :class:`MNISTStylesDataModule` is ``apply_style(digits, style)``."""
    features = check_choice("style", style, ("plain", *STYLES)).split("_")
    if "thick" in features:
        images = thicken(images)
    return -images if "inverted" in features else images


def _frame(size: int, width: int = 2) -> Tensor:
    inside = torch.zeros(size, size, dtype=torch.bool)
    inside[width:-width, width:-width] = True
    return ~inside


def style_statistics(images: Tensor) -> tuple[Tensor, Tensor]:
    """Per (C, H, W) image, measured after resizing to 28 px: ``background``, the mean
    intensity in [0, 1] of the 2-pixel frame (0 for MNIST, 1 inverted), and ``stroke``, the
    fraction of ink pixels (the side of 0 away from the background) that survive a 3×3
    erosion — median 0.09 for MNIST's pen, above 0.5 once thickened."""
    grey = scale_images(images.mean(1, keepdim=True), MNIST_SIZE)
    background = ((grey[:, 0, _frame(MNIST_SIZE)] + 1) / 2).mean(1)
    inverted = background > BACKGROUND_THRESHOLD
    ink = (torch.where(inverted[:, None, None, None], -grey, grey) > 0).float()
    eroded = -F.max_pool2d(-ink, 3, stride=1, padding=1)
    return background, eroded.sum((1, 2, 3)) / ink.sum((1, 2, 3)).clamp(min=1)


def in_style(images: Tensor, style: str) -> Tensor:
    """Whether each image looks like ``style`` (``plain`` for domain A): inverted exactly when
    the style inverts, thick exactly when it thickens (:data:`BACKGROUND_THRESHOLD`,
    :data:`STROKE_THRESHOLD`). A style check for translations, ≥ 99 % right on MNIST-5k."""
    features = check_choice("style", style, ("plain", *STYLES)).split("_")
    background, stroke = style_statistics(images)
    return ((background > BACKGROUND_THRESHOLD) == ("inverted" in features)) & (
        (stroke > STROKE_THRESHOLD) == ("thick" in features)
    )


class MNISTStylesDataModule(TranslationDataModule):
    """Offline CycleGAN demo from MNIST-5k: domain A is plain digits, domain B *other* digits
    in ``style`` — ``thick`` (dilated strokes), ``inverted`` (1 - x) or ``thick_inverted``.

    The training digits (all but the ``val_size`` held out, as ``MNIST5kDataModule`` holds
    them out) are split into two disjoint halves, one per domain, so no A image has a
    counterpart in B: the pairing is unknowable, as in real unpaired data. Held-out items
    pair each held-out digit with *its own* styled version (``b == apply_style(a)``,
    ``label_a == label_b``) — the ground truth of the translation, for evaluation only.
    ``indices_a``, ``indices_b``, ``indices_val`` are the MNIST-5k rows of each part.
    """

    num_classes = 10

    def __init__(
        self,
        style: Literal["thick", "inverted", "thick_inverted"] = "thick",
        image_size: int = 32,
        channels: int = 1,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.style = check_choice("style", style, STYLES)
        self.image_size = check_positive("image_size", image_size)
        self.channels = check_channels(channels)
        self.val_size = check_held_out(val_size)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(self.image_size)
        train_idx, self.indices_val = seeded_split(len(digits), self.val_size, self.seed)
        self.indices_a, self.indices_b = train_idx[: len(train_idx) // 2], train_idx[len(train_idx) // 2 :]
        if len(self.indices_a) == 0:
            raise ValueError(f"val_size={self.val_size} leaves too few digits to split into two domains.")
        styled = apply_style(digits, self.style)
        plain, styled = as_channels(digits, self.channels), as_channels(styled, self.channels)
        domain_a = TensorDictDataset(image=plain[self.indices_a], label=labels[self.indices_a])
        domain_b = TensorDictDataset(image=styled[self.indices_b], label=labels[self.indices_b])
        val = self.indices_val
        held_out = TensorDictDataset(a=plain[val], b=styled[val], label_a=labels[val], label_b=labels[val])
        return UnpairedDataset(domain_a, domain_b, seed=self.seed), held_out
