"""2D Gaussian mixtures for studying mode collapse (the PacGAN / VEEGAN protocol).

Ring: 8 Gaussians with means (cos 2πi/8, sin 2πi/8) and std 0.01. Grid: 25 Gaussians with
means {-4, -2, 0, 2, 4}² and std 0.05 (Lin et al. 2018, PacGAN Sec. 5.1; Srivastava et al.
2017, VEEGAN Sec. 5.1). Labels are the index of the mode a point was drawn from.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gan_lightning.data.base import InMemoryDataModule


def ring_modes(num_modes: int = 8, radius: float = 1.0) -> Tensor:
    """Means of the ring mixture, shape (num_modes, 2)."""
    angles = 2.0 * math.pi * torch.arange(num_modes, dtype=torch.float64) / num_modes
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


def grid_modes(side: int = 5, spacing: float = 2.0) -> Tensor:
    """Means of the grid mixture, shape (side², 2), centred on the origin."""
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2.0) * spacing
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def sample_mixture(modes: Tensor, std: float, num: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """``num`` points from the equal-weight isotropic mixture, and the mode each came from."""
    labels = torch.randint(len(modes), (num,), generator=generator)
    points = modes[labels] + std * torch.randn(num, 2, generator=generator)
    return points, labels


class GaussianMixture2DDataModule(InMemoryDataModule):
    """Points (N, 2) drawn once, with a fixed seed, from a 2D Gaussian mixture.

    ``layout="ring"`` or ``"grid"`` picks the protocol's mixture; ``modes`` and ``std`` stay
    on the datamodule so metrics (:mod:`gan_lightning.metrics.toy2d`) and scatter plots
    (:class:`~gan_lightning.callbacks.SampleGrid`) can use them. Samples are not scaled to
    [-1, 1]: pair with a generator whose output is linear.
    """

    LAYOUTS = ("ring", "grid")

    def __init__(
        self,
        layout: str = "ring",
        num_samples: int = 100_000,
        batch_size: int = 256,
        val_size: int = 2_560,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, val_size=val_size, num_workers=num_workers, seed=seed)
        if layout not in self.LAYOUTS:
            raise ValueError(f"layout must be one of {self.LAYOUTS}, got {layout!r}.")
        if num_samples < 1:
            raise ValueError(f"num_samples must be a positive integer, got {num_samples}.")
        self.layout = layout
        self.num_samples = num_samples
        self.modes = ring_modes() if layout == "ring" else grid_modes()
        self.std = 0.01 if layout == "ring" else 0.05
        self.num_classes = len(self.modes)

    def load(self) -> tuple[Tensor, Tensor]:
        return sample_mixture(self.modes, self.std, self.num_samples, torch.Generator().manual_seed(self.seed))


class Ring2DDataModule(GaussianMixture2DDataModule):
    """The ring of 8 Gaussians (radius 1, std 0.01)."""

    def __init__(self, num_samples: int = 100_000, batch_size: int = 256, val_size: int = 2_560, seed: int = 0) -> None:
        super().__init__("ring", num_samples=num_samples, batch_size=batch_size, val_size=val_size, seed=seed)


class Grid2DDataModule(GaussianMixture2DDataModule):
    """The 5×5 grid of Gaussians (spacing 2, std 0.05)."""

    def __init__(self, num_samples: int = 100_000, batch_size: int = 256, val_size: int = 2_560, seed: int = 0) -> None:
        super().__init__("grid", num_samples=num_samples, batch_size=batch_size, val_size=val_size, seed=seed)
