"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al.
2019): samples from the averaged generator are markedly better than from the raw one.

The average is specified as a *half-life in images*, as in stylegan2-ada-pytorch
(``training_loop.py``: ``ema_kimg``, ``ema_rampup``): the weight of an update halves after
``ema_kimg`` thousand images, whatever the batch size or number of GPUs. A per-step decay
(``0.999``) silently means a different average when either changes.
"""

from __future__ import annotations

import torch
from torch import nn


def ema_beta(images_seen: int, images_per_step: int, ema_kimg: float, ema_rampup: float | None = None) -> float:
    """The decay ``β = 0.5 ** (images_per_step / half_life)`` for one update.

    ``half_life = ema_kimg · 1000`` images, capped at ``ema_rampup · images_seen`` while
    training is young (so the average forgets the random initialisation quickly).
    """
    half_life = ema_kimg * 1000.0
    if ema_rampup is not None:
        half_life = min(half_life, images_seen * ema_rampup)
    return 0.5 ** (images_per_step / max(half_life, 1e-8))


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, beta: float) -> None:
    """``average ← β · average + (1 - β) · model`` for parameters; buffers (BatchNorm
    statistics, noise constants, StyleGAN's ``w_avg``) are copied, since averaging running
    statistics of different networks is not meaningful.

    One ``torch._foreach_*`` call per kind instead of a Python call per tensor: the same bits
    (each tensor still goes through ``lerp_``/``copy_``), less dispatch for networks of many
    tensors (StyleGAN2's)."""
    parameters = list(zip(average.parameters(), model.parameters(), strict=True))
    if parameters:
        averaged = [a for a, _ in parameters]
        torch._foreach_lerp_(averaged, [c.detach().to(a.dtype) for a, c in parameters], 1.0 - beta)
    buffers = list(zip(average.buffers(), model.buffers(), strict=True))
    if buffers:
        torch._foreach_copy_([a for a, _ in buffers], [c for _, c in buffers])
