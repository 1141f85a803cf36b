"""What a batch of generative-model data looks like to the tasks and metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def batch_size_of(batch: Any) -> int:
    """Rows of a batch: its first tensor's (tuples, lists and dicts of tensors alike)."""
    values = batch.values() if isinstance(batch, Mapping) else batch if isinstance(batch, list | tuple) else [batch]
    for value in values:
        if isinstance(value, Tensor):
            return value.shape[0]
    raise ValueError(f"Cannot tell the batch size of a {type(batch).__name__} without tensors.")
