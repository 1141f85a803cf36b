"""Generator and discriminator networks. They know nothing of Lightning.

Contract (see :mod:`gan_lightning.networks.base`): a generator has ``latent_dim`` and maps
``z`` (and labels, if ``num_classes > 0``) to samples in the data's range; a
discriminator maps samples (and labels) to one raw score per sample, shape ``(B,)``.
"""

from gan_lightning.networks.base import conditional_call
from gan_lightning.networks.conditional import ConditionalBatchNorm2d, LabelConcatGenerator, ProjectionHead
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.minibatch_std import MinibatchStdDev
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.pacgan import PackedDiscriminator
from gan_lightning.networks.resnet import ResNetDiscriminator, ResNetGenerator
from gan_lightning.networks.stylegan import StyleGAN2Generator

__all__ = [
    "ConditionalBatchNorm2d",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "LabelConcatGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MinibatchStdDev",
    "PackedDiscriminator",
    "ProjectionHead",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "StyleGAN2Generator",
    "conditional_call",
    "dcgan_init",
]
