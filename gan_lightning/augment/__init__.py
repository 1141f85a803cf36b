"""Augmentations applied to real *and* generated samples before the discriminator
(the GAN module's ``augment`` argument). Each must be differentiable so G learns through it."""

from gan_lightning.augment.ada import AdaptiveAugment
from gan_lightning.augment.base import ScheduledAugment, observe_discriminator, observe_real_logits, set_iteration
from gan_lightning.augment.diffaugment import DiffAugment
from gan_lightning.augment.instance_noise import InstanceNoise

__all__ = [
    "AdaptiveAugment",
    "DiffAugment",
    "InstanceNoise",
    "ScheduledAugment",
    "observe_discriminator",
    "observe_real_logits",
    "set_iteration",
]
