"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazıcı et
al. 2019): samples from the averaged generator are markedly better than from the raw one."""

from __future__ import annotations

import torch
from torch import nn


def ema_decay_at(step: int, decay: float, warmup: bool = True) -> float:
    """The decay used at generator update ``step``.

    With ``warmup``, ``min(decay, (1 + step) / (10 + step))`` so the average follows the
    generator closely while it changes fast, instead of being dominated by its random init.
    """
    if not warmup:
        return decay
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def update_ema(average: nn.Module, model: nn.Module, decay: float) -> None:
    """``average ← decay · average + (1 - decay) · model`` for parameters; buffers
    (BatchNorm statistics, noise constants) are copied, since averaging running statistics of
    different networks is not meaningful."""
    for averaged, current in zip(average.parameters(), model.parameters(), strict=True):
        averaged.lerp_(current.detach().to(averaged.dtype), 1.0 - decay)
    for averaged, current in zip(average.buffers(), model.buffers(), strict=True):
        averaged.copy_(current)
