"""What a batch of generative-model data looks like to the tasks and metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor


def split_batch(batch: Any) -> tuple[Tensor, Tensor | None]:
    """``(samples, labels)`` from a batch that is a tensor or an ``(x, y, ...)`` sequence."""
    if isinstance(batch, Tensor):
        return batch, None
    if isinstance(batch, Sequence) and batch and isinstance(batch[0], Tensor):
        labels = batch[1] if len(batch) > 1 and isinstance(batch[1], Tensor) else None
        return batch[0], labels
    raise TypeError(f"A GAN batch must be a tensor of samples or a (samples, labels) pair, got {type(batch).__name__}.")
