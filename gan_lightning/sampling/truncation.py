"""The truncation trick (Brock et al. 2019, BigGAN, Sec. 3.1): draw the generator's noise from a
truncated normal, every entry with ``|z| > threshold`` redrawn until it falls inside. Smaller
thresholds trade variety (recall) for fidelity (precision); a curve of the two over the threshold
is the honest report, never one point. ``threshold=None`` is the untruncated draw, bit for bit."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def check_threshold(threshold: float | None) -> None:
    """A threshold must be a positive number (None: no truncation)."""
    if threshold is not None and not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(
            f"truncation threshold must be a positive number (e.g. 1.0; None for no truncation), got {threshold}."
        )


def truncated_normal(
    shape: tuple[int, ...],
    threshold: float | None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Standard normal noise of ``shape`` with every entry in ``[-threshold, threshold]``: the
    entries outside are redrawn (from ``generator`` when given, so the draw is reproducible)
    until none is left; ``threshold=None`` is exactly ``torch.randn``."""
    check_threshold(threshold)
    noise = torch.randn(shape, generator=generator, device=device)
    if threshold is None:
        return noise
    outside = noise.abs() > threshold
    while outside.any():
        redraw = torch.randn(int(outside.sum()), generator=generator, device=device)
        noise[outside] = redraw
        outside = noise.abs() > threshold
    return noise


def truncated_uniform(
    shape: tuple[int, ...],
    threshold: float | None,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Uniform noise on ``[-1, 1]`` truncated to ``[-threshold, threshold]`` (a uniform on the
    narrower interval; thresholds ≥ 1 change nothing); ``None`` is the untruncated draw."""
    check_threshold(threshold)
    noise = torch.rand(shape, generator=generator, device=device) * 2.0 - 1.0
    return noise if threshold is None or threshold >= 1 else noise * threshold
