"""Separable synthetic 'digits' for the classifier and CAS tests."""

from __future__ import annotations

import torch


def blobs(num: int, seed: int, shuffle_labels: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable 28-px 'digits': class c is a bright 4×4 square in cell c of a grid, plus noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num) % 10
    images = torch.randn(num, 1, 28, 28, generator=generator) * 0.3 - 0.5
    for index, label in enumerate(labels.tolist()):
        row, col = divmod(label, 4)
        images[index, 0, 2 + 8 * row : 6 + 8 * row, 2 + 6 * col : 6 + 6 * col] += 1.5
    if shuffle_labels:
        labels = labels[torch.randperm(num, generator=generator)]
    return images.clamp(-1, 1), labels
