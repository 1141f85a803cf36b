"""pix2pix with a perceptual term: a new image-to-image paper as one task file.

G minimises pix2pix's conditional GAN loss + λ₁·L1 (Isola et al. 2017, Eq. 4) plus
λ_p·‖φ(G(x)) − φ(y)‖², the feature reconstruction loss of Johnson et al. 2016 (Eq. 2) on a
frozen network φ: features of a network trained to recognise content are closer for images a
viewer calls alike than pixels are, so G is pushed away from the blurry pixel-wise mean.
D judges (source, image) pairs with its objective halved, as in pix2pix.

Everything that is not this paper's idea -- optimizers, EMA, the fixed strips, ``translate``,
held-out metrics, checkpoints, DDP -- comes from :class:`~gan_lightning.tasks.PairedTranslation`.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.tasks import PairedTranslation


class PerceptualPix2Pix(PairedTranslation):
    """Conditional adversarial translation with L1 and perceptual terms.

    Args:
        generator: source (B, Cs, H, W) → target (B, Ct, H, W).
        discriminator: logits for ``cat([source, image], dim=1)``.
        perceptual: a frozen feature loss ``(pred, target) -> Tensor``
            (:class:`~gan_lightning.metrics.PerceptualLoss`).
        objective: the adversarial loss on logits (default: non-saturating, pix2pix's).
        l1_weight: λ₁ (pix2pix: 100).
        perceptual_weight: λ_p.
        **kwargs: optimization, metrics, sample_mode, num_fixed, sample_seed
            (:class:`~gan_lightning.tasks.PairedTranslation`).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        perceptual: nn.Module,
        objective: AdversarialObjective | None = None,
        l1_weight: float = 100.0,
        perceptual_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.perceptual = generator, discriminator, perceptual
        self.objective = objective or NonSaturatingLoss()
        self.l1_weight, self.perceptual_weight = l1_weight, perceptual_weight

    def score(self, source: Tensor, image: Tensor) -> Tensor:
        """D's patch logits for the pair (source, image), flattened to (B, patches)."""
        return self.discriminator(torch.cat([source, image], dim=1)).flatten(1)

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        source, target = batch["source"], batch["target"]
        fake = self.generator(source)  # one forward (one dropout draw) for both phases
        self.check_output(fake, target)

        with self.training_role("discriminator"):  # D main: real pair vs fake pair, halved
            real_logits, fake_logits = self.score(source, target), self.score(source, fake.detach())
            d_loss = 0.5 * self.objective.discriminator_loss(real_logits, fake_logits)
            self.step("discriminator", d_loss)

        with self.training_role("generator"):  # G main: adversarial + L1 + perceptual
            adversarial = self.objective.generator_loss(self.score(source, fake))
            l1 = F.l1_loss(fake, target)
            perceptual = self.perceptual(fake, target)
            g_loss = adversarial + self.l1_weight * l1 + self.perceptual_weight * perceptual
            self.step("generator", g_loss)

        stats = {"d_loss": d_loss, "g_loss": g_loss, "g_l1": l1, "g_perceptual": perceptual}
        stats = {name: value.detach() for name, value in stats.items()}
        self.end_iteration(source.shape[0], stats)
        return stats
