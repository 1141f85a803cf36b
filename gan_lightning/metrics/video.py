"""What a digit video should get right, measured on clips (B, C, T, H, W) in [-1, 1].

* **Per-frame FID** — FID (Heusel et al. 2017) of the shipped MNIST classifier's features
  of every frame, generated against real; beside its *floor*, real against real of the same
  size, the value a perfect generator would get with that many frames.
* **Digit consistency** — the classifier reads every frame; the fraction of frames that agree
  with their clip's majority digit. A clip that morphs a 3 into an 8 scores low. Real clips
  give the reference (below 1 only where the classifier misreads a frame).
* **Motion** — the ink's centre of mass per frame; a clip's motion is its mean frame-to-frame
  displacement in pixels. Mean ± sd over clips and the fraction of (near-)static clips,
  generated against real.

The classifier reads a digit where it is: a ``digit_size`` window centred on the ink's
centre of mass is cut out and scaled to 28×28, the framing of MNIST itself (digits centred
by centre of mass in their 28-px frame) — so real Moving-MNIST frames read as MNIST does.
These statistics assume one digit per clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.metrics.functional import frechet_distance
from gan_lightning.metrics.mnist import MNIST_SIZE, MNISTFeatures, shipped_digit_reader

#: A clip whose centre of mass moves less than this (pixels per frame, on average) is static.
STATIC_THRESHOLD = 0.25


def check_clips(clips: Tensor) -> None:
    if clips.dim() != 5:
        raise ValueError(f"clips must have shape (B, C, T, H, W), got {tuple(clips.shape)}.")


def frames_of(clips: Tensor) -> Tensor:
    """(B, C, T, H, W) → (B·T, C, H, W), clip by clip."""
    check_clips(clips)
    return clips.transpose(1, 2).flatten(0, 1)


def ink(frames: Tensor) -> Tensor:
    """Grey ink weights in [0, 1] of (..., C, H, W) frames in [-1, 1] (channels averaged)."""
    return ((frames.float().mean(dim=-3) + 1) / 2).clamp(0, 1)


def centre_of_mass(frames: Tensor) -> Tensor:
    """(..., 2) (row, column) ink centre of (..., C, H, W) frames, in pixels; the canvas centre
    for a blank frame."""
    weights = ink(frames)
    height, width = weights.shape[-2:]
    rows = torch.arange(height, dtype=weights.dtype, device=weights.device)
    cols = torch.arange(width, dtype=weights.dtype, device=weights.device)
    total = weights.sum(dim=(-2, -1))
    row = (weights.sum(dim=-1) * rows).sum(dim=-1)
    col = (weights.sum(dim=-2) * cols).sum(dim=-1)
    blank = total < 1e-6
    centre = torch.stack([row, col], dim=-1) / total.clamp_min(1e-6).unsqueeze(-1)
    middle = torch.tensor([(height - 1) / 2, (width - 1) / 2], dtype=weights.dtype, device=weights.device)
    return torch.where(blank.unsqueeze(-1), middle, centre)


def clip_motion(clips: Tensor) -> Tensor:
    """(B,) mean frame-to-frame displacement of each clip's ink centre of mass, in pixels."""
    check_clips(clips)
    centres = centre_of_mass(clips.transpose(1, 2))  # (B, T, 2)
    return (centres[:, 1:] - centres[:, :-1]).norm(dim=-1).mean(dim=1)


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


def read_digits(clips: Tensor, digit_size: int, reader: MNISTFeatures | None = None) -> tuple[Tensor, Tensor]:
    """The classifier's digit (B, T) and its probability (B, T) for every frame."""
    reader = reader if reader is not None else shipped_digit_reader(str(clips.device))
    batch, frames = clips.shape[0], clips.shape[2]
    crops = centred_digits(frames_of(clips), digit_size)
    _, logits = reader.classifier.features_and_logits(crops)
    probability, digit = logits.softmax(dim=1).max(dim=1)
    return digit.view(batch, frames), probability.view(batch, frames)


def consistency(digits: Tensor) -> Tensor:
    """(B,) fraction of each clip's frames whose digit (B, T) is the clip's majority digit."""
    majority = digits.mode(dim=1).values
    return (digits == majority.unsqueeze(1)).float().mean(dim=1)


def frame_features(clips: Tensor, reader: MNISTFeatures | None = None) -> Tensor:
    """(B·T, 64) classifier features of every whole frame (resized to 28 px, as for FID on images)."""
    reader = reader if reader is not None else shipped_digit_reader(str(clips.device))
    features, _ = reader.extract(frames_of(clips))
    return features


@dataclass
class ClipStatistics:
    """Consistency, motion and the classifier's confidence of a set of clips."""

    consistency: float
    motion_mean: float
    motion_sd: float
    static_fraction: float
    confidence: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{key}": value for key, value in vars(self).items()}


@torch.no_grad()
def clip_statistics(clips: Tensor, digit_size: int, static_threshold: float = STATIC_THRESHOLD) -> ClipStatistics:
    """:class:`ClipStatistics` of ``clips`` (B, C, T, H, W)."""
    digits, probability = read_digits(clips, digit_size)
    motion = clip_motion(clips)
    return ClipStatistics(
        consistency=consistency(digits).mean().item(),
        motion_mean=motion.mean().item(),
        motion_sd=motion.std().item() if len(motion) > 1 else 0.0,
        static_fraction=(motion < static_threshold).float().mean().item(),
        confidence=probability.mean().item(),
    )


@torch.no_grad()
def frame_fid(real: Tensor, fake: Tensor) -> float:
    """Per-frame FID of clips ``fake`` against clips ``real`` (shipped MNIST features)."""
    return frechet_distance(frame_features(real), frame_features(fake))
