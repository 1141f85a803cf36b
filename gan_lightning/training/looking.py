"""Using a model without changing it: what sample grids, strips and metrics run inside."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


@contextmanager
def looking_only(*modules: nn.Module | None, train_mode: bool = False) -> Iterator[None]:
    """Use ``modules`` without changing them or the training RNG streams.

    Everything that only looks at the model (sample grids, held-out diagnostics, strips)
    runs inside: the global RNG is forked (noise inputs, dropout, augmentation draw from a
    copy), buffers (BatchNorm statistics, ADA's p, ``w_avg``) are restored afterwards, and
    each module's train/eval mode is put back. ``train_mode`` runs them as in training.
    """
    present = [m for m in modules if m is not None]
    modes = [[(child, child.training) for child in m.modules()] for m in present]
    buffers = [[b.detach().clone() for b in m.buffers()] for m in present]
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            for m in present:
                m.train(train_mode)
            yield
    finally:
        for m, saved in zip(present, buffers, strict=True):
            for buffer, value in zip(m.buffers(), saved, strict=True):
                buffer.copy_(value)
        for children in modes:
            for child, training in children:
                child.training = training
