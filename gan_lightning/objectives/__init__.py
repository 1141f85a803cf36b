"""Adversarial objectives: how D's scores turn into D and G losses.

Each objective is a small class with the contract of :class:`AdversarialObjective`;
pick one by ``class_path`` in YAML. A new paper's loss is a subclass in the user's file.
"""

from gan_lightning.objectives.base import AdversarialObjective
from gan_lightning.objectives.losses import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
)

__all__ = [
    "AdversarialObjective",
    "HingeLoss",
    "LeastSquaresLoss",
    "MinimaxLoss",
    "NonSaturatingLoss",
    "WassersteinLoss",
]
