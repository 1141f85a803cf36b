"""Training tasks: LightningModules that orchestrate networks, objectives and data."""

from gan_lightning.tasks.acgan import ACGAN
from gan_lightning.tasks.gan import GAN

__all__ = ["ACGAN", "GAN"]
