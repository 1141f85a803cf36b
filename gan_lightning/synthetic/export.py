"""Class-labelled synthetic images on disk: written by ``gan-lightning sample --labels``, read
back by the classifier pipeline (:mod:`gan_lightning.synthetic.cas`).

Layout (torchvision's ``ImageFolder`` reads it as is)::

    DIR/images/<class>/000000.png     one PNG per sample, numbered in generation order
    DIR/labels.csv                    path,label  (path relative to DIR), one row per PNG
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import save_image

from gan_lightning.errors import CommandLineError

MANIFEST = "labels.csv"


class SyntheticDataError(CommandLineError):
    """A synthetic-data folder that the classifier pipeline cannot read."""


def parse_classes(text: str, num_classes: int) -> list[int]:
    """``balanced`` → every class; ``3,7`` → those classes (each must be < ``num_classes``)."""
    if text.strip() == "balanced":
        return list(range(num_classes))
    try:
        classes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandLineError(
            f"--labels takes 'balanced' or a comma-separated list of classes, got {text!r}."
        ) from None
    wrong = [label for label in classes if not 0 <= label < num_classes]
    if not classes or wrong:
        raise CommandLineError(
            f"--labels {text!r}: classes must be integers in 0..{num_classes - 1} (the generator's num_classes)."
        )
    return classes


def cycled_labels(num: int, classes: Sequence[int]) -> Tensor:
    """``num`` labels cycling through ``classes``: every class gets ⌊num/C⌋ or ⌈num/C⌉."""
    return torch.tensor(list(classes), dtype=torch.long).repeat(num // len(classes) + 1)[:num]


def write_labelled_images(
    generate: Callable[[Tensor], Tensor], out: Path, labels: Tensor, batch_size: int = 256
) -> Path:
    """Write ``generate(labels_batch)`` (images in [-1, 1]) as ``out/images/<class>/<index>.png``
    and the manifest ``out/labels.csv``; returns the manifest's path."""
    rows: list[tuple[str, int]] = []
    for start in range(0, len(labels), batch_size):
        batch = labels[start : start + batch_size]
        images = ((generate(batch).float().clamp(-1, 1) + 1) / 2).cpu()
        for offset, (image, label) in enumerate(zip(images, batch.tolist(), strict=True)):
            relative = Path("images") / str(label) / f"{start + offset:06d}.png"
            (out / relative.parent).mkdir(parents=True, exist_ok=True)
            save_image(image, out / relative)
            rows.append((relative.as_posix(), label))
    manifest = out / MANIFEST
    with manifest.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["path", "label"])
        writer.writerows(rows)
    return manifest


def read_labelled_images(folder: str | Path, channels: int = 1) -> tuple[Tensor, Tensor]:
    """Images (N, channels, H, W) in [-1, 1] and labels (N,) listed in ``folder/labels.csv``.
    PNGs written as RGB from grey images are read back as grey when ``channels`` is 1."""
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise SyntheticDataError(
            f"{manifest} not found: write labelled samples with `gan-lightning sample CKPT --out {folder} "
            "--num-images N --labels balanced`."
        )
    with manifest.open(newline="") as file:
        rows = list(csv.DictReader(file))
    if not rows or not {"path", "label"} <= set(rows[0]):
        raise SyntheticDataError(f"{manifest} must have a header `path,label` and at least one row.")
    mode = "L" if channels == 1 else "RGB"
    arrays = []
    for row in rows:
        path = folder / row["path"]
        if not path.is_file():
            raise SyntheticDataError(f"{manifest} lists {row['path']}, which is not in {folder}.")
        with Image.open(path) as image:
            arrays.append(np.asarray(image.convert(mode), dtype=np.uint8))
    if len({array.shape for array in arrays}) > 1:
        raise SyntheticDataError(f"The images listed in {manifest} do not all have the same size.")
    pixels = torch.from_numpy(np.stack(arrays)).float() / 127.5 - 1.0
    images = pixels.unsqueeze(1) if channels == 1 else pixels.permute(0, 3, 1, 2)
    return images.contiguous(), torch.tensor([int(row["label"]) for row in rows], dtype=torch.long)
