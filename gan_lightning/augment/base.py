"""Augmentations whose strength follows training progress."""

from __future__ import annotations

from torch import Tensor, nn


class ScheduledAugment(nn.Module):
    """An augmentation that knows the current generator update (``iteration``).

    The GAN module calls :func:`set_iteration` at the start of every training step, so a
    schedule (annealed instance noise, an adaptive augmentation probability) is a pure
    function of the iteration: exact on resume, with no hidden call counters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.iteration = 0

    def observe_real_logits(self, logits: Tensor) -> None:
        """D's raw scores on the real batch of one discriminator update (for ADA's
        overfitting heuristic); nothing by default."""


def set_iteration(module: nn.Module | None, iteration: int) -> None:
    """Tell every :class:`ScheduledAugment` inside ``module`` (if any) the current iteration."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.iteration = iteration


def observe_real_logits(module: nn.Module | None, logits: Tensor) -> None:
    """Show D's scores on a real batch to every :class:`ScheduledAugment` inside ``module``."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.observe_real_logits(logits)
