"""Reading captioned canvases back: which digit is where, how large, how thick.

Text-to-image has no ground-truth image for a caption, so its validation asks whether the
image shows what the caption says: the shipped MNIST classifier reads the digit in the
place the caption names, and simple ink measures read the attributes — position from the
ink's centre of mass, size from the ink's extent, thickness from the ink mass. The same
reading of real held-out canvases is the ceiling the instrument allows.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from gan_lightning.mnist.classifier import shipped_digit_reader, to_mnist_frame

INK = 0.0  # a pixel in [-1, 1] is ink above mid-grey


def _grey(images: Tensor) -> Tensor:
    return images.float().mean(dim=1, keepdim=True)


def ink_mass(images: Tensor) -> Tensor:
    """(N,) total ink of grey images in [-1, 1], each pixel counting (x + 1)/2. Among digits
    of one class drawn at one size, more ink means thicker strokes: it is the thickness
    measure, always compared with the median of its (class, size) group."""
    return ((_grey(images) + 1) / 2).flatten(1).sum(1)


def ink_centre(images: Tensor) -> Tensor:
    """(N, 2) centre of mass (row, column) of the ink, weights (x + 1)/2; the canvas centre
    for an empty image."""
    weights = (_grey(images)[:, 0] + 1) / 2
    height, width = weights.shape[-2:]
    rows = torch.arange(height, dtype=weights.dtype, device=weights.device)
    cols = torch.arange(width, dtype=weights.dtype, device=weights.device)
    total = weights.flatten(1).sum(1).clamp(min=1e-6)
    centre_r = (weights.sum(2) * rows).sum(1) / total
    centre_c = (weights.sum(1) * cols).sum(1) / total
    empty = weights.flatten(1).sum(1) < 1e-6
    centre = torch.stack([centre_r, centre_c], dim=1)
    centre[empty] = torch.tensor([(height - 1) / 2, (width - 1) / 2], device=weights.device)
    return centre


def read_position(images: Tensor) -> Tensor:
    """(N,) 0 left, 1 right, 2 top, 3 bottom: the direction in which the ink's centre of mass
    lies furthest from the canvas centre."""
    height, width = images.shape[-2:]
    offset = ink_centre(images) - torch.tensor([(height - 1) / 2, (width - 1) / 2], device=images.device)
    scores = torch.stack([-offset[:, 1], offset[:, 1], -offset[:, 0], offset[:, 0]], dim=1)
    return scores.argmax(dim=1)


def ink_extent(images: Tensor) -> Tensor:
    """(N,) the larger side of the ink's bounding box in pixels (0 for an empty image)."""
    ink = _grey(images)[:, 0] > INK
    extents = []
    for axis in (1, 2):
        present = ink.any(dim=axis).float()
        index = torch.arange(present.shape[1], device=images.device, dtype=torch.float32)
        first = torch.where(present > 0, index, float("inf")).amin(1)
        last = torch.where(present > 0, index, float("-inf")).amax(1)
        extents.append((last - first + 1).clamp(min=0).nan_to_num(0.0))
    return torch.maximum(*extents)


class Layout(Protocol):
    """What a reader needs of the composition (:class:`gan_lightning.mnist.captions.CanvasLayout`)."""

    size_threshold: float

    def side(self, size: int) -> int: ...

    def window(self, position: int, size: int) -> tuple[int, int, int]: ...


def read_size(images: Tensor, layout: Layout) -> Tensor:
    """(N,) 1 large / 0 small: the ink's extent against ``layout.size_threshold``."""
    return (ink_extent(images) > layout.size_threshold).long()


def crop_windows(images: Tensor, positions: Tensor, sizes: Tensor, layout: Layout) -> Tensor:
    """Each image's window where the caption puts its digit, as a 28×28 MNIST frame in which
    the digit's box is MNIST's 20 px."""
    frames = []
    for image, position, size in zip(images, positions.tolist(), sizes.tolist(), strict=True):
        top, left, side = layout.window(position, size)
        crop = _grey(image[None, :, top : top + side, left : left + side])
        frames.append(to_mnist_frame(crop, min(28, round(20 * side / layout.side(size)))))
    return torch.cat(frames)


def read_windows(images: Tensor, positions: Tensor, sizes: Tensor, layout: Layout) -> tuple[Tensor, Tensor]:
    """The shipped classifier's (features, predicted digits) of each caption's window."""
    frames = crop_windows(images, positions, sizes, layout)
    features, logits = shipped_digit_reader(str(images.device)).extract(frames)
    return features, logits.argmax(dim=1)


def caption_scores(
    images: Tensor, batch: dict[str, Tensor], layout: Layout, thickness_thresholds: Tensor
) -> tuple[dict[str, Tensor], Tensor]:
    """Per caption, whether ``images`` show what ``batch``'s attributes say — ``digit`` (the
    classifier reading the caption's window), ``position``, ``size`` and ``thickness``
    (ink mass above ``thickness_thresholds[digit, size]``, the medians of real training
    canvases), NaN where the caption does not state the attribute; and the classifier's features of
    the windows (for FID). Where a caption leaves the size out, the measured size decides
    the window and the thickness threshold."""
    images = images.float()
    digits, positions, sizes, thickness = (batch[k] for k in ("digit", "position", "size", "thickness"))
    measured_size = read_size(images, layout)
    window_size = torch.where(sizes >= 0, sizes, measured_size)
    features, read = read_windows(images, positions, window_size, layout)
    threshold = thickness_thresholds.to(images.device)[digits, measured_size]
    thick = (ink_mass(images) > threshold).long()
    scores = {
        "digit": (read == digits).float(),
        "position": (read_position(images) == positions).float(),
        "size": stated((measured_size == sizes).float(), sizes),
        "thickness": stated((thick == thickness).float(), thickness),
    }
    return scores, features


def stated(correct: Tensor, attribute: Tensor) -> Tensor:
    """``correct`` where the caption states the attribute (>= 0), NaN where it does not:
    per-caption results keep one entry per image (they gather across processes), and
    ``nanmean`` averages over the captions that say something."""
    return torch.where(attribute >= 0, correct, torch.full_like(correct, float("nan")))
