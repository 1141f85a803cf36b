"""Augmentations whose strength follows training progress."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class ScheduledAugment(nn.Module):
    """An augmentation that knows the current generator update (``iteration``) and may
    watch the discriminator.

    The GAN module calls :func:`set_iteration` at the start of every training step, so a
    schedule (annealed instance noise) is a pure function of the iteration: exact on resume,
    with no hidden call counters. For augmentations that adapt to how D fits the data (ADA)
    it calls :func:`observe_discriminator` once per discriminator update with D's scores of
    the (augmented) real and fake batches and the objective D is trained with.
    """

    def __init__(self) -> None:
        super().__init__()
        self.iteration = 0

    def observe_discriminator(self, objective: Any, real_logits: Tensor, fake_logits: Tensor) -> None:
        """D's raw scores (detached) of one real and one fake training batch, and the
        objective that reads them; passes the real scores to :meth:`observe_real_logits`
        unless overridden."""
        self.observe_real_logits(real_logits)

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
    ``module`` (if any), for a D whose boundary is 0 (logistic, hinge); prefer
    :func:`observe_discriminator`, which knows the objective."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.observe_real_logits(logits)


def observe_discriminator(module: nn.Module | None, objective: Any, real_logits: Tensor, fake_logits: Tensor) -> None:
    """Show D's scores of a real and a fake training batch, and the objective that reads
    them, to every :class:`ScheduledAugment` inside ``module`` (if any). Called once per
    discriminator update."""
    if module is None:
        return
    for child in module.modules():
        if isinstance(child, ScheduledAugment):
            child.observe_discriminator(objective, real_logits, fake_logits)
