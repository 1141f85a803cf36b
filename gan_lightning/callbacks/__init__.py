"""Callbacks: what happens around training without the module knowing about it."""

from gan_lightning.callbacks.checkpoints import BestCheckpoint
from gan_lightning.callbacks.divergence import DivergenceError, DivergenceGuard
from gan_lightning.callbacks.sample_grid import SampleGrid

__all__ = ["BestCheckpoint", "DivergenceError", "DivergenceGuard", "SampleGrid"]
