"""Building blocks shared by the networks."""

from __future__ import annotations

from typing import Literal

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

Normalization = Literal["batch", "layer", "instance", "spectral", "none"]


def normalization_layer(kind: Normalization, channels: int) -> nn.Module:
    """The feature normalization after a conv. ``layer`` normalises each sample over
    (C, H, W), as WGAN-GP recommends for critics (batch norm breaks the per-sample
    gradient penalty). ``instance`` has no learned scale or shift and no running statistics,
    as Ulyanov et al. 2016 and the pix2pix/CycleGAN reference code
    (``InstanceNorm2d(affine=False, track_running_stats=False)``): each map is normalised
    alone, in training and at test time alike. ``spectral`` normalises weights instead: see
    :func:`maybe_spectral`."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind in ("spectral", "none"):
        return nn.Identity()
    raise ValueError(f"Unknown normalization {kind!r}: choose batch, layer, instance, spectral or none.")


def maybe_spectral(layer: nn.Module, kind: Normalization) -> nn.Module:
    """Spectral normalization (Miyato et al. 2018) of a layer's weight when asked for."""
    return spectral_norm(layer) if kind == "spectral" else layer
