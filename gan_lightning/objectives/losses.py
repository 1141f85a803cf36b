"""The classic GAN losses, each written on logits so it is stable under autocast.

Notation: ``r`` = D(x) on real data, ``f`` = D(G(z)) on generated data, both raw logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.objectives.base import AdversarialObjective, ProbabilisticObjective


class NonSaturatingLoss(ProbabilisticObjective):
    """Goodfellow et al. 2014, Sec. 3: D maximises log D(x) + log(1 - D(G(z))); G
    maximises log D(G(z)) instead of minimising log(1 - D(G(z))), which keeps G's
    gradients alive while D is winning. ``softplus(-t) = -log sigmoid(t)``.

    ``label_smoothing`` is one-sided (Salimans et al. 2016): real targets become 1 - s.
    """

    def __init__(self, label_smoothing: float = 0.0) -> None:
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}.")
        self.label_smoothing = label_smoothing

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        real_target = torch.full_like(real_logits, 1.0 - self.label_smoothing)
        real_term = F.binary_cross_entropy_with_logits(real_logits, real_target)
        return real_term + F.softplus(fake_logits).mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return F.softplus(-fake_logits).mean()


class MinimaxLoss(NonSaturatingLoss):
    """Goodfellow et al. 2014, Eq. 1 taken literally: G minimises log(1 - D(G(z))).

    Kept for study: its gradient vanishes when D confidently rejects fakes.
    ``log(1 - sigmoid(t)) = -softplus(t)``.
    """

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -F.softplus(fake_logits).mean()


class WassersteinLoss(AdversarialObjective):
    """Arjovsky et al. 2017: the critic maximises E[D(x)] - E[D(G(z))].

    The critic must be 1-Lipschitz: pair this with :class:`~gan_lightning.regularizers.GradientPenalty`
    (WGAN-GP) or set ``clip_value`` to clip every critic weight to [-c, c] after each
    critic update (the original WGAN, Algorithm 1, c = 0.01).
    """

    decision_boundary = "midpoint"  # scores are defined up to an added constant

    def __init__(self, clip_value: float | None = None) -> None:
        if clip_value is not None and clip_value <= 0:
            raise ValueError(f"clip_value must be positive (the paper uses 0.01), got {clip_value}.")
        self.clip_value = clip_value

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return fake_logits.mean() - real_logits.mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -fake_logits.mean()

    @torch.no_grad()
    def after_discriminator_step(self, discriminator: nn.Module) -> None:
        if self.clip_value is None:
            return
        for parameter in discriminator.parameters():
            parameter.clamp_(-self.clip_value, self.clip_value)


class HingeLoss(AdversarialObjective):
    """Lim & Ye 2017; Miyato et al. 2018 (SNGAN), Eq. 16-17:
    D minimises E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]; G minimises -E[D(G(z))]."""

    decision_boundary = 0.0  # between the margins ±1

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return -fake_logits.mean()


class LeastSquaresLoss(AdversarialObjective):
    """Mao et al. 2017 (LSGAN), Eq. 2 with the 0-1 coding a=0, b=1, c=1:
    D minimises ½E[(D(x) - 1)²] + ½E[D(G(z))²]; G minimises ½E[(D(G(z)) - 1)²]."""

    decision_boundary = 0.5  # D* = p_data / (p_data + p_g) = 1/2 between the targets 0 and 1

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * ((real_logits - 1.0).pow(2).mean() + fake_logits.pow(2).mean())

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        return 0.5 * (fake_logits - 1.0).pow(2).mean()
