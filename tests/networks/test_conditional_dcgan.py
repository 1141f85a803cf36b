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
