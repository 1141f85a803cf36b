"""Shared by the network tests: weights read without the package's helpers, and their spectral norm."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize


def raw_weight(layer: nn.Module) -> torch.Tensor:
    """The stored weight, read without the package's helper (so the test holds on its own)."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight


def largest_singular_value(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.flatten(start_dim=1), ord=2).item()
