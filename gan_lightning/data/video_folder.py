"""Users' own clips for video GANs: a folder of clips, each a folder of frames or a video file.

Layout (``root``, or ``root/train`` when it exists)::

    root/train/clip_0001/000.png 001.png ...   # a clip = a folder of frames (sorted by name)
    root/train/walk.gif                        # or an animated GIF (read with Pillow)
    root/train/run.mp4                         # or a video file (needs PyAV: `pip install av`)
    root/val/...                               # held-out clips (else val_size are split off)

Every clip becomes ``num_frames`` frames (every ``frame_stride``-th), each resized (shorter
side, antialiased) and centre-cropped to ``image_size``: batches ``{"video": (B, C, T, H, W)}``
in [-1, 1]. Training clips start at a random frame drawn from ``(seed, epoch, index)``;
held-out clips at their first frame. Clips with too few frames are skipped with one warning
that counts and names them (``short_clips: error`` stops instead).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

import torch
from lightning.pytorch.utilities import rank_zero_warn
from PIL import Image, ImageSequence
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.image_data import DataError, DataNotFoundError, image_transform, require_folder
from gan_lightning.data.image_folder import IMAGE_EXTENSIONS
from gan_lightning.data.translation import (
    EpochDataset,
    TranslationDataModule,
    check_choice,
    check_positive,
    check_val_size,
    read_image,
    seeded_split,
    seeded_subset,
)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
GIF_EXTENSION = ".gif"
_HINT = "Set `data.init_args.root` to a folder of clips (see docs/video.md, 'Your own clips')."


class VideoReaderMissingError(DataError, ImportError):
    """Video files were found but PyAV, which decodes them, is not installed."""


class ShortClipsError(DataError, ValueError):
    """Clips with fewer frames than a training clip needs, with ``short_clips: error``."""


def has_pyav() -> bool:
    return importlib.util.find_spec("av") is not None


def require_pyav(files: list[Path]) -> None:
    """A :class:`VideoReaderMissingError` naming the files when PyAV is missing."""
    if files and not has_pyav():
        more = f" and {len(files) - 1} more" if len(files) > 1 else ""
        raise VideoReaderMissingError(
            f"Reading video files ({files[0]}{more}) needs PyAV: `pip install av`. "
            "Or convert each clip to a folder of frames (PNG/JPG) or an animated GIF."
        )


class Clip:
    """One clip on disk: a folder of frame files, an animated GIF or a video file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = (
            sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and not p.name.startswith("."))
            if path.is_dir()
            else []
        )

    @property
    def is_video_file(self) -> bool:
        return self.path.suffix.lower() in VIDEO_EXTENSIONS

    def __len__(self) -> int:
        if self.path.is_dir():
            return len(self.frames)
        if self.path.suffix.lower() == GIF_EXTENSION:
            with Image.open(self.path) as image:
                return getattr(image, "n_frames", 1)
        import av  # counted by decoding: container frame counts are unreliable

        with av.open(str(self.path)) as container:
            return sum(1 for _ in container.decode(video=0))

    def read(self, first: int, count: int, stride: int) -> list[Image.Image]:
        """Frames ``first, first + stride, ...`` (``count`` of them) as PIL images."""
        wanted = range(first, first + count * stride, stride)
        if self.path.is_dir():
            return [read_image(self.frames[i]) for i in wanted]
        if self.path.suffix.lower() == GIF_EXTENSION:
            with Image.open(self.path) as image:
                frames = [frame.convert("RGB") for i, frame in enumerate(ImageSequence.Iterator(image)) if i in wanted]
            return frames
        import av

        with av.open(str(self.path)) as container:
            decoded = [frame.to_image() for i, frame in enumerate(container.decode(video=0)) if i in wanted]
        return decoded


def find_clips(folder: Path) -> list[Clip]:
    """Sub-folders holding frames, animated GIFs and video files directly in ``folder``, sorted."""
    require_folder(folder, "Clip folder", _HINT)
    clips = []
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if path.name.startswith("."):
            continue
        if (path.is_dir() and Clip(path).frames) or suffix == GIF_EXTENSION or suffix in VIDEO_EXTENSIONS:
            clips.append(Clip(path))
    if not clips:
        raise DataNotFoundError(
            f"No clips in {folder}: expected sub-folders of frames ({', '.join(IMAGE_EXTENSIONS[:3])} ...), "
            f"animated GIFs or video files ({', '.join(VIDEO_EXTENSIONS[:3])} ...). {_HINT}"
        )
    require_pyav([clip.path for clip in clips if clip.is_video_file])
    return clips


def long_enough(clips: list[Clip], needed: int, policy: str) -> list[Clip]:
    """The clips with at least ``needed`` frames; the others are skipped with a warning that
    counts them (``policy == "skip"``) or raise a :class:`ShortClipsError`."""
    lengths = [len(clip) for clip in clips]
    short = [f"{clip.path} ({n} frames)" for clip, n in zip(clips, lengths, strict=True) if n < needed]
    kept = [clip for clip, n in zip(clips, lengths, strict=True) if n >= needed]
    if short:
        message = f"{len(short)} of {len(clips)} clips have fewer than the {needed} frames a clip needs: "
        message += "; ".join(short[:5]) + (" ..." if len(short) > 5 else "")
        if policy == "error" or not kept:
            raise ShortClipsError(message + ". Lower num_frames or frame_stride, or remove them.")
        rank_zero_warn(message + ". They are skipped.")
    return kept


class VideoClipDataset(EpochDataset):
    """``{"video": (C, T, H, W)}`` from :class:`Clip` s; a random start frame per (seed, epoch,
    index) when ``random_start``, else the first frame."""

    def __init__(
        self,
        clips: list[Clip],
        num_frames: int,
        stride: int,
        image_size: int,
        channels: int,
        random_start: bool,
        seed: int,
    ) -> None:
        super().__init__(seed)
        self.clips, self.num_frames, self.stride = clips, num_frames, stride
        self.random_start = random_start
        self.transform = image_transform(image_size, channels)
        self.lengths = [len(clip) for clip in clips]

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        span = (self.num_frames - 1) * self.stride + 1
        latest = self.lengths[index] - span
        first = int(torch.randint(latest + 1, (1,), generator=self.generator(index))) if self.random_start else 0
        frames = self.clips[index].read(first, self.num_frames, self.stride)
        return {"video": torch.stack([self.transform(frame) for frame in frames], dim=1)}


class VideoFolderDataModule(TranslationDataModule):
    """Clips from a folder (layout in the module docstring) for :class:`~gan_lightning.tasks.VideoGAN`.

    Args:
        root: the data set folder.
        num_frames: frames per training clip (T).
        frame_stride: keep every ``frame_stride``-th frame (a lower frame rate, longer motion).
        image_size: side of the square frames (shorter side resized, centre crop).
        channels: 1 (grey) or 3 (RGB).
        held_out: sub-folder of held-out clips (null: always split off ``val_size``).
        val_size: with a held-out folder, a seeded subset of this many (null: all); without one,
            this many training clips split off (null: none).
        short_clips: ``skip`` (with a warning counting them) or ``error``.
        batch_size, num_workers, seed: loader settings; ``seed`` fixes the split and start frames.
    """

    def __init__(
        self,
        root: str | Path,
        num_frames: int = 16,
        frame_stride: int = 1,
        image_size: int = 64,
        channels: int = 3,
        held_out: str | None = "val",
        val_size: int | None = None,
        short_clips: Literal["skip", "error"] = "skip",
        batch_size: int = 16,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.root = Path(root).expanduser()
        self.num_frames = check_positive("num_frames", num_frames)
        self.frame_stride = check_positive("frame_stride", frame_stride)
        self.image_size = self.canvas = check_positive("image_size", image_size)
        self.channels = check_channels(channels)
        self.held_out = held_out
        self.val_size = check_val_size(val_size)
        self.short_clips = check_choice("short_clips", short_clips, ("skip", "error"))

    def prepare_data(self) -> None:
        require_folder(self.root, "Clip folder", _HINT)

    def clips_in(self, folder: Path) -> list[Clip]:
        return long_enough(find_clips(folder), (self.num_frames - 1) * self.frame_stride + 1, self.short_clips)

    def dataset(self, clips: list[Clip], train: bool) -> VideoClipDataset:
        return VideoClipDataset(
            clips, self.num_frames, self.frame_stride, self.image_size, self.channels, train, self.seed
        )

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        require_folder(self.root, "Clip folder", _HINT)
        train_folder = self.root / "train" if (self.root / "train").is_dir() else self.root
        train = self.clips_in(train_folder)
        held_out = self.root / self.held_out if self.held_out else None
        if held_out is not None and held_out.is_dir():
            val = seeded_subset(self.clips_in(held_out), self.val_size, self.seed)
        else:
            train_idx, val_idx = seeded_split(len(train), self.val_size or 0, self.seed)
            train, val = [train[i] for i in train_idx], [train[i] for i in val_idx]
        return self.dataset(train, train=True), self.dataset(val, train=False)
