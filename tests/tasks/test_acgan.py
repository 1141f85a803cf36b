"""ACGAN (Odena et al. 2017): the auxiliary classifier trains only through its class loss, and
the task says what networks it needs."""

from __future__ import annotations

import torch

from gan_lightning.networks import (
    ResNetDiscriminator,
    ResNetGenerator,
)
from tests.conftest import TinyData


def acgan(weight: float = 1.0):
    from gan_lightning.tasks import ACGAN

    return ACGAN(
        ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=10),
        ResNetDiscriminator(image_size=8, channels=1, width=8, aux_classes=10, spectral=False),
        classification_weight=weight,
        num_fixed=10,
    )


def test_acgan_trains_the_auxiliary_classifier_only_through_its_class_loss(make_trainer):
    model = acgan(weight=1.0)
    before = model.discriminator.classifier.weight.detach().clone()
    trainer = make_trainer(max_steps=2)
    trainer.fit(model, TinyData())
    assert {
        "train/d_class_loss_real",
        "train/d_class_loss_fake",
        "train/g_class_loss",
    } <= trainer.callback_metrics.keys()
    assert not torch.equal(model.discriminator.classifier.weight, before)

    untouched = acgan(weight=0.0)
    before = untouched.discriminator.classifier.weight.detach().clone()
    make_trainer(max_steps=2).fit(untouched, TinyData())
    assert torch.equal(untouched.discriminator.classifier.weight, before)


def test_acgan_explains_what_it_needs():
    import pytest

    from gan_lightning.tasks import ACGAN

    with pytest.raises(ValueError, match="aux_classes"):
        ACGAN(
            ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=10),
            ResNetDiscriminator(image_size=8, channels=1, width=8),
        )
    with pytest.raises(ValueError, match="class-conditional generator"):
        ACGAN(
            ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8),
            ResNetDiscriminator(image_size=8, channels=1, width=8, aux_classes=10),
        )
