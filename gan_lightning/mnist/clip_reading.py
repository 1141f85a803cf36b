"""Reading the digit of a Moving-MNIST clip, frame by frame.

The classifier reads a digit where it is: a ``digit_size`` window centred on the ink's centre
of mass is cut out and scaled to 28×28, the framing of MNIST itself (digits centred by centre
of mass in their 28-px frame) — so real Moving-MNIST frames read as MNIST does. A clip's
**consistency** is the fraction of its frames that agree with its majority digit: a clip that
morphs a 3 into an 8 scores low; real clips give the reference (below 1 only where the
classifier misreads a frame). These readings assume one digit per clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.metrics.video import STATIC_THRESHOLD, centre_of_mass, frames_of, motion_statistics
from gan_lightning.mnist.classifier import MNISTFeatures, shipped_digit_reader
from gan_lightning.mnist.digits import MNIST_SIZE


def centred_digits(frames: Tensor, digit_size: int) -> Tensor:
    """(N, 1, 28, 28) grey crops: the ``digit_size`` window around each frame's ink centre of
    mass (outside the canvas counts as background) scaled to 28 px — MNIST's framing."""
    grey = frames.float().mean(dim=1, keepdim=True)
    count, _, height, width = grey.shape
    centre = centre_of_mass(grey)  # (N, 2) row, column
    # affine_grid (align_corners=False) maps output pixels to [-1, 1] input coordinates
    scale = torch.tensor([digit_size / width, digit_size / height], device=grey.device)
    shift = torch.stack([(2 * centre[:, 1] + 1) / width - 1, (2 * centre[:, 0] + 1) / height - 1], dim=1)
    theta = torch.zeros(count, 2, 3, device=grey.device)
    theta[:, 0, 0], theta[:, 1, 1] = scale[0], scale[1]
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, [count, 1, MNIST_SIZE, MNIST_SIZE], align_corners=False)
    # sample the ink (0 = background) so zero padding is background, then back to [-1, 1]
    return F.grid_sample(grey + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


def read_clip_digits(clips: Tensor, digit_size: int, reader: MNISTFeatures | None = None) -> tuple[Tensor, Tensor]:
    """The classifier's digit (B, T) and its probability (B, T) for every frame."""
    reader = reader if reader is not None else shipped_digit_reader(str(clips.device))
    batch, frames = clips.shape[0], clips.shape[2]
    crops = centred_digits(frames_of(clips), digit_size)
    _, logits = reader.extract(crops)
    probability, digit = logits.softmax(dim=1).max(dim=1)
    return digit.view(batch, frames), probability.view(batch, frames)


def consistency(digits: Tensor) -> Tensor:
    """(B,) fraction of each clip's frames whose digit (B, T) is the clip's majority digit."""
    majority = digits.mode(dim=1).values
    return (digits == majority.unsqueeze(1)).float().mean(dim=1)


@torch.no_grad()
def digit_statistics(clips: Tensor, digit_size: int) -> dict[str, float]:
    """``consistency`` (mean over clips) and ``confidence`` (the classifier's mean probability)."""
    digits, probability = read_clip_digits(clips, digit_size)
    return {"consistency": consistency(digits).mean().item(), "confidence": probability.mean().item()}


@dataclass
class ClipStatistics:
    """Consistency, motion and the classifier's confidence of a set of Moving-MNIST clips."""

    consistency: float
    motion_mean: float
    motion_sd: float
    static_fraction: float
    confidence: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{key}": value for key, value in vars(self).items()}


@torch.no_grad()
def clip_statistics(clips: Tensor, digit_size: int, static_threshold: float = STATIC_THRESHOLD) -> ClipStatistics:
    """:class:`ClipStatistics` of ``clips`` (B, C, T, H, W): the digit reading and the motion."""
    return ClipStatistics(**digit_statistics(clips, digit_size), **motion_statistics(clips, static_threshold))
