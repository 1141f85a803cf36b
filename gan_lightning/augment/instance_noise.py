"""Instance noise (Sønderby et al. 2017, Sec. 4; Arjovsky & Bottou 2017, Sec. 3.1)."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.augment.base import ScheduledAugment


class InstanceNoise(ScheduledAugment):
    """Adds Gaussian noise to real and fake samples before D, annealed to zero.

    Noise makes the real and generated distributions overlap, so D's optimum is smooth and
    G's gradients stay informative early on; it is annealed away so the final model fits
    the clean data. ``std(t) = std · max(0, 1 - t / anneal_steps)`` at generator update t
    (``anneal_steps: null`` keeps it constant). Active in training mode only.
    """

    def __init__(self, std: float = 0.1, anneal_steps: int | None = None) -> None:
        super().__init__()
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}.")
        if anneal_steps is not None and anneal_steps < 1:
            raise ValueError(
                f"anneal_steps must be a positive number of generator updates or null, got {anneal_steps}."
            )
        self.std = std
        self.anneal_steps = anneal_steps

    @property
    def current_std(self) -> float:
        if self.anneal_steps is None:
            return self.std
        return self.std * max(0.0, 1.0 - self.iteration / self.anneal_steps)

    def forward(self, x: Tensor) -> Tensor:
        std = self.current_std
        if not self.training or std == 0.0:
            return x
        return x + std * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"std={self.std}, anneal_steps={self.anneal_steps}"
