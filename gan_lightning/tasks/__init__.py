"""Training tasks: LightningModules that orchestrate networks, objectives and data.

:class:`AdversarialTask` is the base every task shares (roles, optimization, global-step
semantics, clipping, EMA, held-out metrics, the capabilities commands call, exact resume);
:class:`PairedTranslation` adds what paired image-to-image tasks share. On them: :class:`GAN` (noise → image) and
:class:`ACGAN`; :class:`Pix2Pix` (paired translation), :class:`CycleGAN` (unpaired
translation) and :class:`SRGAN` (super-resolution); :class:`TextToImage` (GAN-INT-CLS); :class:`VideoGAN`
(MoCoGAN clips); :class:`SemiSupervisedGAN` (a classifier from few labels, Salimans et al. 2016).
"""

from gan_lightning.tasks.acgan import ACGAN
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.tasks.cyclegan import CycleGAN
from gan_lightning.tasks.gan import GAN
from gan_lightning.tasks.paired import PairedTranslation
from gan_lightning.tasks.pix2pix import Pix2Pix
from gan_lightning.tasks.semi_supervised import SemiSupervisedGAN
from gan_lightning.tasks.srgan import SRGAN
from gan_lightning.tasks.text2image import TextToImage
from gan_lightning.tasks.video import VideoGAN

__all__ = [
    "ACGAN",
    "GAN",
    "SRGAN",
    "AdversarialTask",
    "CycleGAN",
    "PairedTranslation",
    "Pix2Pix",
    "SemiSupervisedGAN",
    "TextToImage",
    "VideoGAN",
]
