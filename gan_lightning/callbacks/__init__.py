"""Callbacks: what happens around training without the module knowing about it."""

from gan_lightning.callbacks.checkpoints import BestCheckpoint, PeriodicCheckpoint
from gan_lightning.callbacks.divergence import DivergenceError, DivergenceGuard
from gan_lightning.callbacks.mixture_statistics import MixtureStatistics
from gan_lightning.callbacks.preemption import Preemption
from gan_lightning.callbacks.progress import IterationProgressBar
from gan_lightning.callbacks.regularizer_annealing import RegularizerAnnealing
from gan_lightning.callbacks.sample_grid import SampleGrid
from gan_lightning.callbacks.summary import RunSummary

__all__ = [
    "BestCheckpoint",
    "DivergenceError",
    "DivergenceGuard",
    "IterationProgressBar",
    "MixtureStatistics",
    "PeriodicCheckpoint",
    "Preemption",
    "RegularizerAnnealing",
    "RunSummary",
    "SampleGrid",
]
