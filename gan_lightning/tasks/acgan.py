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
from gan_lightning.tasks.gan import GAN, FakeBatch


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

    def _class_loss(self, samples: Tensor, labels: Tensor) -> Tensor:
        if self.augment is not None:
            samples = self.augment(samples)
        return self.classification_weight * F.cross_entropy(self.discriminator.classify(samples).float(), labels)

    def discriminator_terms(self, real: Tensor, labels: Tensor | None, fake: FakeBatch) -> dict[str, Tensor]:
        if labels is None:
            raise ValueError("AC-GAN trains on labelled data: use a datamodule that yields (images, labels).")
        return {
            "d_class_loss_real": self._class_loss(real, labels),
            "d_class_loss_fake": self._class_loss(fake.images.detach(), fake.labels),
        }

    def generator_terms(self, fake: FakeBatch) -> dict[str, Tensor]:
        return {"g_class_loss": self._class_loss(fake.images, fake.labels)}
