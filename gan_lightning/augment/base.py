"""Augmentations whose strength follows training progress."""

from __future__ import annotations

from torch import Tensor, nn


class ScheduledAugment(nn.Module):
    """An augmentation that knows the current generator update (``iteration``) and may
    watch the discriminator.

    The GAN module calls :func:`set_iteration` at the start of every training step, so a
    schedule (annealed instance noise) is a pure function of the iteration: exact on resume,
    with no hidden call counters. It calls :func:`observe_real_logits` once per
    discriminator update with D's scores of the (augmented) real batch, for augmentations
    that adapt to how D fits the data (ADA).
    """

    def __init__(self) -> None:
        super().__init__()
        self.iteration = 0

    def observe_real_logits(self, logits: Tensor) -> None:
        """D's raw scores (detached) of one real training batch; ignored unless overridden."""


def set_iteration(module: nn.Module | None, iteration: int) -> None:
    """Tell every :class:`ScheduledAugment` inside ``module`` (if any) the current iteration."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.iteration = iteration


def observe_real_logits(module: nn.Module | None, logits: Tensor) -> None:
    """Show D's scores of a real training batch to every :class:`ScheduledAugment` inside
    ``module`` (if any). Called once per discriminator update."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.observe_real_logits(logits)
