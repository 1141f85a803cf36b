"""Minibatch standard deviation (Karras et al. 2018, ProGAN Sec. 3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchStdDev(nn.Module):
    """Appends one feature: the standard deviation of features across a group of samples.

    The batch is split into groups of ``group_size``; within each group the std of every
    feature over the group is averaged into one number, broadcast to all positions and
    appended as an extra channel (ProGAN Sec. 3). D thus sees how varied the batch is and
    can reject a generator that makes near-identical samples. Works on (B, C, H, W) and on
    flat (B, F) features (then one extra feature is appended). Output has C + 1 channels.
    """

    def __init__(self, group_size: int = 4, eps: float = 1e-8) -> None:
        super().__init__()
        if group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {group_size}.")
        self.group_size = group_size
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        group = min(self.group_size, batch)
        if batch % group:
            raise ValueError(
                f"MinibatchStdDev(group_size={self.group_size}) needs a batch size divisible by {group}, got {batch}."
            )
        grouped = x.reshape(group, batch // group, *x.shape[1:]).float()  # sample i goes to group slot i % (B/group)
        std = (grouped.var(dim=0, unbiased=False) + self.eps).sqrt()  # (B/group, C, ...)
        stat = std.flatten(start_dim=1).mean(dim=1)  # (B/group,)
        stat = stat.repeat(group).to(x.dtype)  # back to (B,), same order as the reshape
        feature = stat.view(batch, *([1] * (x.dim() - 1))).expand(batch, 1, *x.shape[2:])
        return torch.cat([x, feature], dim=1)
