"""The contract every adversarial objective fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn


class AdversarialObjective(ABC):
    """Turns discriminator outputs (raw logits / critic scores) into losses.

    Subclasses implement :meth:`discriminator_loss` and :meth:`generator_loss`. Both
    receive *raw* discriminator outputs; losses must be written on logits (softplus,
    ``binary_cross_entropy_with_logits``) so they stay exact under mixed precision.

    Set ``generator_needs_real = True`` when the generator loss also needs D's scores on
    real data (relativistic losses); the module then computes them in the G phase.
    """

    generator_needs_real: bool = False
    #: The score at which the optimal D is indifferent between real and fake (p_data = p_g):
    #: what ADA's overfitting heuristic reads real scores against. ``"midpoint"`` for a critic,
    #: whose scores have no fixed origin (the midpoint of one update's mean real and fake
    #: scores); ``None``: unknown (ADA then asks for its ``boundary`` to be set).
    decision_boundary: float | str | None = None

    @abstractmethod
    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """Loss minimised by the discriminator."""

    @abstractmethod
    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        """Loss minimised by the generator."""

    def readout(self, logits: Tensor) -> Tensor:
        """What to log as "D(x)": a probability for classifiers, the raw score for critics."""
        return logits

    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        """Hook run after every discriminator update (weight clipping lives here)."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class ProbabilisticObjective(AdversarialObjective, ABC):
    """Objectives whose D is a real-vs-fake classifier: log D(x) as a probability."""

    decision_boundary = 0.0  # logit 0: D(x) = 1/2

    def readout(self, logits: Tensor) -> Tensor:
        return torch.sigmoid(logits.float())
