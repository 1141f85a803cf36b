"""Training tasks: LightningModules that orchestrate networks, objectives and data.

:class:`AdversarialTask` is the base every task shares (roles, optimizers, global-step
semantics, clipping, EMA, exact resume); :class:`GAN` is noise → image on it.
"""

from gan_lightning.tasks.acgan import ACGAN
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.tasks.cyclegan import CycleGAN
from gan_lightning.tasks.gan import GAN

__all__ = ["ACGAN", "GAN", "AdversarialTask", "CycleGAN"]
