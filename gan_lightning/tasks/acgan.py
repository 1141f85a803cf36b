"""AC-GAN (Odena et al. 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs").

G is class-conditional; D is unconditional but has an auxiliary classifier head
(``aux_classes = K`` and ``classify(x) -> (B, K)`` logits). Besides the adversarial loss, D minimises the class
cross-entropy on real *and* generated samples and G minimises it on generated samples
(Eq. 1-2: both maximise L_C, the log-likelihood of the correct class). Everything else —
phases, n_critic, regularizers, EMA — is the GAN module's.
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from gan_lightning.networks.base import is_conditional
from gan_lightning.tasks.gan import GAN


class ACGAN(GAN):
    """:class:`GAN` plus the auxiliary-classifier terms, weighted by ``classification_weight``.

    All other arguments are the GAN module's.
    """

    def __init__(self, *args: Any, classification_weight: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if getattr(self.discriminator, "aux_classes", 0) < 1 or not callable(
            getattr(self.discriminator, "classify", None)
        ):
            raise ValueError(
                f"AC-GAN needs a discriminator with aux_classes > 0 and a classify(x) head; "
                f"{type(self.discriminator).__name__} has none "
                "(use ResNetDiscriminator with aux_classes: <number of classes>)."
            )
        if not is_conditional(self.generator):
            raise ValueError("AC-GAN needs a class-conditional generator (num_classes > 0).")
        if classification_weight < 0:
            raise ValueError(f"classification_weight must be >= 0, got {classification_weight}.")
        self.classification_weight = classification_weight
        self._last_fake: tuple[Tensor, Tensor] | None = None

    def _fake_batch(self, num: int, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        fake, fake_labels = super()._fake_batch(num, labels)
        self._last_fake = (fake, fake_labels)  # the batch this phase scores, for the class loss
        return fake, fake_labels

    def _class_loss(self, samples: Tensor, labels: Tensor) -> Tensor:
        if self.augment is not None:
            samples = self.augment(samples)
        return F.cross_entropy(self.discriminator.classify(samples).float(), labels)

    def discriminator_phase(self, real: Tensor, labels: Tensor | None, step: int) -> tuple[Tensor, dict[str, Tensor]]:
        if labels is None:
            raise ValueError("AC-GAN trains on labelled data: use a datamodule that yields (images, labels).")
        loss, stats = super().discriminator_phase(real, labels, step)
        fake, fake_labels = self._last_fake
        real_term, fake_term = self._class_loss(real, labels), self._class_loss(fake.detach(), fake_labels)
        stats["d_class_loss_real"], stats["d_class_loss_fake"] = real_term.detach(), fake_term.detach()
        return loss + self.classification_weight * (real_term + fake_term), stats

    def generator_phase(self, real: Tensor, labels: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
        loss, stats = super().generator_phase(real, labels)
        fake, fake_labels = self._last_fake
        class_term = self._class_loss(fake, fake_labels)
        stats["g_class_loss"] = class_term.detach()
        return loss + self.classification_weight * class_term, stats
