"""A new GAN method in one file, trained by gan-lightning with no change to the package.

The method: the relativistic pairing loss RpGAN (Jolicoeur-Martineau 2018, "The relativistic
discriminator"), as revived by R3GAN (Huang et al. 2024) with zero-centred R1 + R2 penalties, plus an
"anchor" penalty of our own that pins the discriminator's mean score, and on the generator's side
Jacobian clamping (Odena et al. 2018).

Run it from this folder (``lightning`` puts the current folder on ``sys.path``):

    lightning fit --config my_paper.yaml
    lightning fit --config my_paper.yaml --trainer.max_steps=20     # a smoke run

Everything below uses only the public contracts of ``gan_lightning.objectives`` and
``gan_lightning.regularizers`` (see docs/extending.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.objectives import AdversarialObjective
from gan_lightning.regularizers import DiscriminatorBatch, GeneratorBatch, GeneratorRegularizer, Regularizer


class RelativisticPairingLoss(AdversarialObjective):
    """RpGAN: D judges each fake *relative to a paired real*, not in isolation.

    D minimises E[softplus(D(G(z)) - D(x))]; G minimises E[softplus(D(x) - D(G(z)))]
    (Jolicoeur-Martineau 2018, the relativistic standard GAN; Huang et al. 2024, R3GAN). Real and
    fake batches are paired index by index, so they must have the same size (the GAN
    module draws as many fakes as there are reals).
    """

    # G's loss needs D's scores on real data: the module then computes them in the G phase.
    generator_needs_real = True

    def discriminator_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.softplus(fake_logits - real_logits).mean()

    def generator_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        if real_logits is None:
            raise ValueError("RelativisticPairingLoss needs D's scores on real data (generator_needs_real).")
        return F.softplus(real_logits - fake_logits).mean()


class MeanScoreAnchor(Regularizer):
    """weight · (E[D(x)])²: keep the critic's mean score on real data near 0.

    A relativistic loss only sees *differences* of scores, so adding a constant to D
    changes nothing and its scores can drift without bound; this pins the free constant.
    (The same idea as ProGAN's ε-drift term, Karras et al. 2018, Sec. A.1, which penalises
    E[D(x)²] instead.)
    """

    def __init__(self, weight: float = 1e-3, interval: int = 1) -> None:
        super().__init__(weight, interval)

    def penalty(self, batch: DiscriminatorBatch) -> Tensor:
        return batch.discriminator(batch.real).float().mean().pow(2)


class JacobianClamping(GeneratorRegularizer):
    """Jacobian clamping (Odena et al. 2018, "Is generator conditioning causally related to GAN
    performance?", Algorithm 1): keep the generator's local stretch
    ``Q = ‖G(z + δ) − G(z)‖ / ‖δ‖`` (δ a random direction of length ``eps``) inside
    ``[lambda_min, lambda_max]``; penalty ``E[max(Q − λmax, 0)² + max(λmin − Q, 0)²]``.
    """

    def __init__(
        self,
        weight: float = 1.0,
        interval: int = 1,
        eps: float = 1.0,
        lambda_min: float = 1.0,
        lambda_max: float = 20.0,
    ) -> None:
        super().__init__(weight, interval)
        self.eps, self.lambda_min, self.lambda_max = eps, lambda_min, lambda_max

    def penalty(self, batch: GeneratorBatch) -> Tensor:
        latent = batch.latent
        delta = torch.randn_like(latent)
        delta = self.eps * delta / delta.norm(dim=1, keepdim=True)
        base = batch.images if batch.images is not None else batch.generate(latent)
        stretch = (batch.generate(latent + delta) - base).flatten(start_dim=1).norm(dim=1) / self.eps
        return (F.relu(stretch - self.lambda_max).pow(2) + F.relu(self.lambda_min - stretch).pow(2)).mean()
