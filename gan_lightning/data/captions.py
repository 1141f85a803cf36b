"""Your own (image, caption) pairs for text-to-image: a JSONL file or a folder.

- **JSONL** (``path`` is a ``.jsonl`` file): one JSON object per line,
  ``{"image": "birds/001.png", "caption": "a small red bird"}``; image paths are relative to
  the file's folder (or absolute). ``"caption"`` may also be a list of captions of that
  image (as in CUB/Oxford-102, ten per image).
- **Folder** (``path`` is a folder): every image under it (recursively) with a ``.txt`` file of
  the same name beside it (``001.png`` + ``001.txt``), one caption per line.

A training item uses one of its image's captions, drawn per ``(seed, epoch, index)``; a
held-out item always its first. The vocabulary is built from the training captions
(:class:`~gan_lightning.text.Tokenizer`) and travels with the model's checkpoints. Batches:
``{"image": (C, S, S) in [-1, 1], "tokens": (max_words,), "length": ()}``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import DataError, DataNotFoundError, image_transform, require_folder
from gan_lightning.data.image_folder import scan_image_folder
from gan_lightning.data.tokenizer import Tokenizer
from gan_lightning.data.translation import (
    EpochDataset,
    TranslationDataModule,
    check_positive,
    check_val_size,
    read_image,
    seeded_split,
)

Pair = tuple[Path, list[str]]
_HINT = (
    'Set `data.init_args.path` to a .jsonl file of {"image", "caption"} lines or a folder of images with .txt captions.'
)


class CaptionFileError(DataError, ValueError):
    """A JSONL line or caption file that cannot be used; the message names it."""


def read_jsonl(path: Path) -> list[Pair]:
    """``(image path, captions)`` of each line of ``path``; every problem names its line."""
    pairs: list[Pair] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CaptionFileError(f"{where} is not valid JSON ({error.msg}): write one object per line.") from None
        if not isinstance(record, dict) or "image" not in record or "caption" not in record:
            raise CaptionFileError(f'{where} needs an object with "image" and "caption" keys, got {line.strip()[:80]}.')
        captions = record["caption"] if isinstance(record["caption"], list) else [record["caption"]]
        captions = [str(caption).strip() for caption in captions if str(caption).strip()]
        if not captions:
            raise CaptionFileError(f"{where} has an empty caption.")
        image = Path(record["image"]).expanduser()
        image = image if image.is_absolute() else path.parent / image
        if not image.is_file():
            raise DataNotFoundError(
                f"{where}: image {image} not found (paths are relative to the JSONL file's folder)."
            )
        pairs.append((image, captions))
    if not pairs:
        raise DataNotFoundError(f"{path} has no (image, caption) lines. {_HINT}")
    return pairs


def read_folder(folder: Path, verify: bool) -> list[Pair]:
    """Each image under ``folder`` with the lines of its same-named ``.txt`` file."""
    pairs: list[Pair] = []
    missing: list[Path] = []
    require_folder(folder, "Caption folder", _HINT)
    scan = scan_image_folder(folder, verify=verify)
    rejected = [(path, reason) for path, reason in scan.rejected if path.suffix.lower() != ".txt"]
    if rejected:
        listed = "; ".join(f"{path} ({reason})" for path, reason in rejected[:5])
        rank_zero_warn(
            f"Skipped {len(rejected)} file(s) under {folder} that are neither images nor captions: {listed}."
        )
    if not scan.files:
        raise DataNotFoundError(f"Caption folder {folder} has no images. {_HINT}")
    for image in scan.files:
        text = image.with_suffix(".txt")
        if not text.is_file():
            missing.append(text)
            continue
        captions = [line.strip() for line in text.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not captions:
            raise CaptionFileError(f"{text} has no caption: write one caption per line.")
        pairs.append((image, captions))
    if missing:
        listed = ", ".join(str(path) for path in missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DataNotFoundError(
            f"{len(missing)} image(s) under {folder} have no caption file: {listed}. Each image needs a .txt file of "
            "the same name beside it, one caption per line."
        )
    return pairs


class CaptionedImageDataset(EpochDataset):
    """Items ``{"image", "tokens", "length"}`` read from (image file, captions) pairs."""

    def __init__(
        self,
        pairs: list[Pair],
        tokenizer: Tokenizer,
        image_size: int,
        channels: int,
        max_words: int,
        train: bool,
        seed: int,
    ) -> None:
        super().__init__(seed)
        self.pairs, self.tokenizer, self.max_words, self.train = pairs, tokenizer, max_words, train
        self.transform = image_transform(image_size, channels)

    def __len__(self) -> int:
        return len(self.pairs)

    def caption(self, index: int) -> str:
        captions = self.pairs[index][1]
        if not self.train or len(captions) == 1:
            return captions[0]
        return captions[int(torch.randint(len(captions), (1,), generator=self.generator(index)))]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        image: Image.Image = read_image(self.pairs[index][0])
        ids, length = self.tokenizer.batch([self.caption(index)], max_length=self.max_words)
        return {"image": self.transform(image), "tokens": ids[0], "length": length[0]}


class CaptionDataModule(TranslationDataModule):
    """(image, caption) pairs from a JSONL file or a folder (module docstring).

    Args:
        path: the ``.jsonl`` file or the folder.
        image_size: side of the square images (shorter side resized, centre crop).
        channels: 1 (grey) or 3 (RGB).
        max_words: captions are padded or cut to this many tokens.
        max_vocab_size: keep the most frequent words, ``<pad>`` and ``<unk>`` included (null: all);
            it must fit the text encoder's ``vocab_size``. Rarer words read as ``<unk>``.
        min_count: words seen fewer times in the training captions read as ``<unk>``.
        val_size: pairs held out (a seeded split) for validation and the fixed sample captions.
        verify: decode-check every image of a folder at start-up.
        batch_size, num_workers, seed: as everywhere.
    """

    num_classes = 0

    def __init__(
        self,
        path: str | Path,
        image_size: int = 64,
        channels: int = 3,
        max_words: int = 32,
        max_vocab_size: int | None = None,
        min_count: int = 1,
        val_size: int | None = 16,
        verify: bool = True,
        batch_size: int = 64,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.path = Path(path).expanduser()
        self.image_size = check_positive("image_size", image_size)
        self.channels = check_channels(channels)
        self.max_words = check_positive("max_words", max_words)
        self.max_vocab_size = max_vocab_size
        self.min_count = check_positive("min_count", min_count)
        self.val_size = check_val_size(val_size)
        self.verify = verify
        self.tokenizer: Tokenizer | None = None

    def prepare_data(self) -> None:
        if not self.path.exists():
            raise DataNotFoundError(f"Caption data not found: {self.path} does not exist. {_HINT}")

    def read_pairs(self) -> list[Pair]:
        self.prepare_data()
        if self.path.is_dir():
            return read_folder(self.path, self.verify)
        return read_jsonl(self.path)

    @property
    def vocabulary(self) -> Tokenizer:
        """The tokenizer of the training captions (built by ``setup``)."""
        self.setup()
        assert self.tokenizer is not None
        return self.tokenizer

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        pairs = self.read_pairs()
        train_idx, val_idx = seeded_split(len(pairs), self.val_size or 0, self.seed)
        train, held_out = [pairs[i] for i in train_idx], [pairs[i] for i in val_idx]
        self.tokenizer = Tokenizer.from_captions(
            (caption for _, captions in train for caption in captions), self.max_vocab_size, self.min_count
        )
        return tuple(  # type: ignore[return-value]
            CaptionedImageDataset(
                part, self.tokenizer, self.image_size, self.channels, self.max_words, train, self.seed
            )
            for part, train in ((train, True), (held_out, False))
        )
