"""Generator and discriminator networks. They know nothing of Lightning.

Contract (see :mod:`gan_lightning.networks.base`): a generator has ``latent_dim`` and maps
``z`` (and labels, if ``num_classes > 0``) to samples in the data's range; a
discriminator maps samples (and labels) to one raw score per sample, shape ``(B,)``.
"""

from gan_lightning.networks.base import conditional_call
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "conditional_call",
    "dcgan_init",
]
