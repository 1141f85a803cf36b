"""Moving MNIST built on the fly from MNIST-5k: offline clips of digits bouncing in a box.

After Srivastava et al. 2015 ("Unsupervised Learning of Video Representations using LSTMs",
Sec. 3): each clip has one (or two) digits, each starting at a random place with a random
velocity and bouncing off the canvas edges. Here a clip is a pure function of
``(seed, index)`` — the same clip on every run, rank, worker and restart — so nothing has
to be stored and exact resume needs only the loader's position.

Batches are ``{"video": (B, C, T, H, W) in [-1, 1], "label": (B,) or (B, num_digits)}``.
The held-out clips are made only from the held-out digits (``MNIST5kDataModule``'s split
with the same ``seed`` and ``val_size``): no digit image appears on both sides.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels
from gan_lightning.data.translation import (
    TranslationDataModule,
    check_held_out,
    check_positive,
    sample_generator,
    seeded_split,
)
from gan_lightning.mnist.digits import mnist5k_digits

#: Distinct clip streams for the two splits (a training clip never equals a held-out one).
_SPLIT_KEY = {"train": 0, "val": 1}


def bounce(start: Tensor, velocity: Tensor, steps: int, limit: float) -> Tensor:
    """Positions (steps, ...) of points moving at ``velocity`` per step inside [0, limit],
    reflected at both ends (elastic bounces; a speed below ``limit`` bounces at most once a step)."""
    if velocity.abs().max() >= limit:
        raise ValueError(f"bounce needs speeds slower than the room to move ({limit} px per step).")
    positions, position, velocity = [], start.clone(), velocity.clone()
    for _ in range(steps):
        positions.append(position.clone())
        position = position + velocity
        low, high = position < 0, position > limit
        position = torch.where(low, -position, torch.where(high, 2 * limit - position, position))
        velocity = torch.where(low | high, -velocity, velocity)
    return torch.stack(positions)


class MovingDigitsDataset(Dataset):
    """Clips of ``num_digits`` digits from ``digits`` (N, 1, s, s) moving on a ``canvas`` square.

    Item ``index`` draws from ``sample_generator(seed, split, index)``: which digits, where
    they start (uniform over the canvas) and their velocity (uniform direction, speed uniform
    in ``speed``, pixels per frame). Digits are pasted at whole-pixel positions; where two
    overlap the brighter pixel wins (Srivastava et al. 2015 also take the maximum).
    """

    def __init__(
        self,
        digits: Tensor,
        labels: Tensor,
        num_clips: int,
        num_frames: int,
        canvas: int,
        num_digits: int = 1,
        speed: tuple[float, float] = (1.0, 2.0),
        channels: int = 1,
        seed: int = 0,
        split_key: int = 0,
    ) -> None:
        self.digits, self.labels = digits, labels
        self.num_clips, self.num_frames, self.canvas = num_clips, num_frames, canvas
        self.num_digits, self.speed, self.channels = num_digits, speed, channels
        self.seed, self.split_key = seed, split_key
        self.room = canvas - digits.shape[-1]  # positions 0..room keep a digit inside the canvas

    def __len__(self) -> int:
        return self.num_clips

    def trajectory(self, generator: torch.Generator) -> Tensor:
        """(T, num_digits, 2) whole-pixel (row, column) top-left corners, each in [0, room]."""
        start = torch.rand(self.num_digits, 2, generator=generator) * self.room
        angle = torch.rand(self.num_digits, generator=generator) * 2 * torch.pi
        low, high = self.speed
        speed = low + (high - low) * torch.rand(self.num_digits, generator=generator)
        velocity = torch.stack([speed * torch.sin(angle), speed * torch.cos(angle)], dim=1)
        return bounce(start, velocity, self.num_frames, float(self.room)).round().long().clamp(0, self.room)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        generator = sample_generator(self.seed, self.split_key, index)
        chosen = torch.randint(len(self.digits), (self.num_digits,), generator=generator)
        corners = self.trajectory(generator)
        size = self.digits.shape[-1]
        video = torch.full((1, self.num_frames, self.canvas, self.canvas), -1.0)
        for t in range(self.num_frames):
            for d, digit in enumerate(chosen.tolist()):
                top, left = corners[t, d].tolist()
                window = video[0, t, top : top + size, left : left + size]
                torch.maximum(window, self.digits[digit, 0], out=window)
        labels = self.labels[chosen]
        return {
            "video": video.expand(self.channels, -1, -1, -1).clone(),
            "label": labels[0] if self.num_digits == 1 else labels,
        }


class MovingMNISTDataModule(TranslationDataModule):
    """Moving MNIST from MNIST-5k (offline): ``num_digits`` digits of ``digit_size`` px bouncing
    on a ``canvas`` × ``canvas`` square for ``num_frames`` frames.

    Defaults: one 20-px digit (the 28-px MNIST frame, ink ≈ 14 px) on 32×32, 16 frames, speed
    1-2 px per frame. The classic set (Srivastava et al. 2015) is ``canvas: 64, digit_size: 28,
    num_digits: 2`` (speed ≈ 2-4 px per frame there).

    Args:
        canvas: side of the frames (``image_size`` is an alias that configs interpolate).
        digit_size: side the 28-px MNIST frame of a digit is resized to (at most ``canvas``).
        num_frames: frames per clip (T).
        num_digits: digits per clip (1 or 2); labels are (B,) for one digit, (B, 2) for two.
        speed: (min, max) speed in pixels per frame; null: (canvas/32, canvas/16).
        train_clips, val_clips: clips per split; clip ``i`` is the same on every run.
        val_size: held-out MNIST-5k digits (the ``MNIST5kDataModule`` split with this seed).
        channels: 1 (grey) or 3 (grey repeated).
        batch_size, num_workers, seed: loader settings; ``seed`` fixes the split and every clip.
    """

    num_classes = 10

    def __init__(
        self,
        canvas: int = 32,
        digit_size: int = 20,
        num_frames: int = 16,
        num_digits: int = 1,
        speed: tuple[float, float] | None = None,
        train_clips: int = 10_000,
        val_clips: int = 512,
        val_size: int = 500,
        channels: int = 1,
        batch_size: int = 16,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.canvas = self.image_size = check_positive("canvas", canvas)
        self.digit_size = check_positive("digit_size", digit_size)
        if digit_size > canvas:
            raise ValueError(f"digit_size={digit_size} does not fit on a {canvas}-px canvas: lower it or raise canvas.")
        self.num_frames = check_positive("num_frames", num_frames)
        if num_digits not in (1, 2):
            raise ValueError(f"num_digits must be 1 or 2, got {num_digits!r}.")
        self.num_digits = num_digits
        low, high = speed if speed is not None else (canvas / 32, canvas / 16)
        if not 0 <= low <= high < max(canvas - digit_size, 1):
            raise ValueError(
                f"speed must be (min, max) with 0 <= min <= max < canvas - digit_size = {canvas - digit_size} "
                f"pixels per frame, got {speed!r}."
            )
        self.speed = (float(low), float(high))
        self.train_clips = check_positive("train_clips", train_clips)
        self.val_clips = check_held_out(val_clips)
        self.val_size = check_positive("val_size", val_size)
        self.channels = check_channels(channels)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(self.digit_size)
        train_idx, val_idx = seeded_split(len(digits), self.val_size, self.seed)
        return tuple(  # type: ignore[return-value]
            MovingDigitsDataset(
                digits[idx],
                labels[idx],
                clips,
                self.num_frames,
                self.canvas,
                self.num_digits,
                self.speed,
                self.channels,
                self.seed,
                _SPLIT_KEY[split],
            )
            for split, idx, clips in (("train", train_idx, self.train_clips), ("val", val_idx, self.val_clips))
        )
