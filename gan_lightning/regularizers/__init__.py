"""Regularizers: extra penalty terms added to one player's loss.

A regularizer is a small class with the contract of :class:`Regularizer`; list any
number under ``model.init_args.regularizers`` in YAML.
"""

from gan_lightning.regularizers.base import DiscriminatorBatch, Regularizer
from gan_lightning.regularizers.gradient import GradientPenalty, R1Penalty, R2Penalty

__all__ = ["DiscriminatorBatch", "GradientPenalty", "R1Penalty", "R2Penalty", "Regularizer"]
