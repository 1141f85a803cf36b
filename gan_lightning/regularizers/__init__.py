"""Regularizers: extra penalty terms added to one player's loss.

A discriminator-side regularizer has the contract of :class:`Regularizer` (list any number
under ``model.init_args.regularizers``), a generator-side one that of
:class:`GeneratorRegularizer` (``model.init_args.generator_regularizers``).
"""

from gan_lightning.regularizers.base import (
    DiscriminatorBatch,
    GeneratorBatch,
    GeneratorRegularizer,
    Regularizer,
    eager_networks,
)
from gan_lightning.regularizers.generator import ModeSeekingPenalty, PathLengthPenalty
from gan_lightning.regularizers.gradient import GradientPenalty, R1Penalty, R2Penalty

__all__ = [
    "DiscriminatorBatch",
    "GeneratorBatch",
    "GeneratorRegularizer",
    "GradientPenalty",
    "ModeSeekingPenalty",
    "PathLengthPenalty",
    "R1Penalty",
    "R2Penalty",
    "Regularizer",
    "eager_networks",
]
