"""The contract every regularizer fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class DiscriminatorBatch:
    """What a discriminator-phase regularizer may look at.

    ``discriminator`` maps a batch of samples to logits with labels and augmentation
    already bound, so a penalty on ∇ₓD(x) differentiates through the same function the
    loss saw. ``real``/``fake`` are detached from the generator.
    """

    discriminator: Callable[[Tensor], Tensor]
    real: Tensor
    fake: Tensor


class Regularizer(ABC):
    """A penalty ``weight · penalty(batch)`` added to the discriminator loss.

    ``interval`` > 1 applies it lazily (Karras et al. 2020, StyleGAN2 Sec. 3.1): only on
    every ``interval``-th discriminator update, scaled by ``interval`` so its expected
    strength is unchanged.
    """

    def __init__(self, weight: float, interval: int = 1) -> None:
        if weight < 0:
            raise ValueError(f"{type(self).__name__}: weight must be >= 0, got {weight}.")
        if interval < 1:
            raise ValueError(f"{type(self).__name__}: interval must be >= 1, got {interval}.")
        self.weight = weight
        self.interval = interval

    @property
    def name(self) -> str:
        """Key under which the unweighted penalty is logged."""
        return type(self).__name__

    def is_due(self, discriminator_step: int) -> bool:
        return discriminator_step % self.interval == 0

    @abstractmethod
    def penalty(self, batch: DiscriminatorBatch) -> Tensor:
        """The unweighted penalty (a scalar)."""

    def __call__(self, batch: DiscriminatorBatch) -> tuple[Tensor, Tensor]:
        """Returns ``(weighted term to add to the loss, unweighted penalty to log)``."""
        value = self.penalty(batch)
        return value * (self.weight * self.interval), value.detach()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight}, interval={self.interval})"


def input_gradient(discriminator: Callable[[Tensor], Tensor], inputs: Tensor) -> Tensor:
    """∇ₓ D(x) per sample, differentiable (``create_graph``) so it can be penalised.

    Runs in float32 with autocast off: ``torch.autograd.grad`` is not scaled by AMP's
    GradScaler and fp16 gradients of D can under/overflow (pytorch/pytorch#25081).
    """
    with torch.autocast(device_type=inputs.device.type, enabled=False):
        x = inputs.detach().float().requires_grad_(True)
        scores = discriminator(x).float()
        (gradient,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return gradient
