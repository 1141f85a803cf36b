"""Augmentations applied to real *and* generated samples before the discriminator
(the GAN module's ``augment`` argument). Each must be differentiable so G learns through it."""

from gan_lightning.augment.base import ScheduledAugment, set_iteration
from gan_lightning.augment.diffaugment import DiffAugment
from gan_lightning.augment.instance_noise import InstanceNoise

__all__ = ["DiffAugment", "InstanceNoise", "ScheduledAugment", "set_iteration"]
