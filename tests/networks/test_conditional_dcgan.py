"""The projection DCGAN discriminator (Miyato & Koyama 2018) reads the class labels."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import ProjectionDCGANDiscriminator


def test_projection_dcgan_discriminator_uses_the_labels():
    torch.manual_seed(0)
    critic = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10)
    images = torch.randn(4, 1, 28, 28)
    scores = critic(images, torch.zeros(4, dtype=torch.long))
    assert scores.shape == (4,)
    assert not torch.allclose(scores, critic(images, torch.full((4,), 5)))
    with pytest.raises(ValueError, match="pass the class labels"):
        critic(images)


def test_auxiliary_classifier_reads_the_score_features_and_is_off_by_default():
    torch.manual_seed(0)
    critic = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10, aux_classes=10)
    images = torch.randn(4, 1, 28, 28, requires_grad=True)
    logits = critic.classify(images)
    assert logits.shape == (4, 10)
    logits.sum().backward()
    trunk = critic.net[0].parametrizations.weight.original  # the class head trains the shared trunk
    assert trunk.grad is not None and trunk.grad.abs().sum() > 0
    assert all(parameter.grad is None for parameter in critic.head.parameters())  # the score head is not used
    plain = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10)
    assert not any(key.startswith("classifier") for key in plain.state_dict())
    with pytest.raises(ValueError, match="no auxiliary classifier: set aux_classes"):
        plain.classify(images)
    with pytest.raises(ValueError, match="aux_classes must be >= 0"):
        ProjectionDCGANDiscriminator(aux_classes=-1)


def test_auxiliary_classifier_leaves_the_plain_discriminator_bit_identical():
    """aux_classes only adds a layer after the others: same seed, same trunk and head weights."""
    torch.manual_seed(3)
    plain = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10)
    torch.manual_seed(3)
    with_aux = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10, aux_classes=10)
    extra = {key for key in with_aux.state_dict() if key.startswith("classifier")}
    assert extra and set(with_aux.state_dict()) - extra == set(plain.state_dict())
    for key, value in plain.state_dict().items():
        assert torch.equal(value, with_aux.state_dict()[key]), key
