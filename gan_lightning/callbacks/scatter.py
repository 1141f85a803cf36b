"""Scatter plots of 2D samples as image tensors, so they log like any sample grid."""

from __future__ import annotations

import io

import numpy as np
import torch
from torch import Tensor


def scatter_image(points: Tensor, reference: Tensor | None = None, size_inches: float = 4.0, dpi: int = 80) -> Tensor:
    """Render ``points`` (N, 2) as a (3, H, W) image in [0, 1].

    ``reference`` (K, 2), e.g. the data's mode centres, is drawn as red crosses so a
    collapsed generator (points on few crosses) is visible at a glance.
    """
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"scatter_image draws 2D points of shape (N, 2), got {tuple(points.shape)}.")
    from matplotlib.figure import Figure  # no pyplot: no global backend state, no display needed

    figure = Figure(figsize=(size_inches, size_inches), dpi=dpi)
    axes = figure.add_subplot()
    xy = points.detach().float().cpu().numpy()
    axes.scatter(xy[:, 0], xy[:, 1], s=4, alpha=0.5, color="tab:blue", linewidths=0)
    if reference is not None:
        ref = reference.detach().float().cpu().numpy()
        axes.scatter(ref[:, 0], ref[:, 1], s=30, marker="x", color="tab:red")
        span = float(np.abs(ref).max()) * 1.5 + 0.5
        axes.set_xlim(-span, span)
        axes.set_ylim(-span, span)
    axes.set_aspect("equal")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="raw", dpi=dpi)
    width, height = (round(v) for v in figure.get_size_inches() * dpi)
    rgba = np.frombuffer(buffer.getvalue(), dtype=np.uint8).reshape(height, width, 4)
    return torch.from_numpy(rgba[..., :3].copy()).permute(2, 0, 1).float() / 255.0
