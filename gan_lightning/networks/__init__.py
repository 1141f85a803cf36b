"""Generator and discriminator networks. They know nothing of Lightning.

Contract (see :mod:`gan_lightning.networks.base`): a generator has ``latent_dim`` and maps
``z`` (and labels, if ``num_classes > 0``) to samples in the data's range; a
discriminator maps samples (and labels) to one raw score per sample, shape ``(B,)``.

Image-to-image networks (pix2pix, CycleGAN, SRGAN) map an image to an image
(``UNetGenerator``, ``ResNetTranslator``, ``SRResNet``); ``PatchDiscriminator`` returns a map
of per-patch logits ``(B, 1, h, w)``, ``SRGANDiscriminator`` one logit per image.
"""

from gan_lightning.networks.base import conditional_call
from gan_lightning.networks.conditional import ConditionalBatchNorm2d, LabelConcatGenerator, ProjectionHead
from gan_lightning.networks.conditional_dcgan import ProjectionDCGANDiscriminator
from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.minibatch_std import MinibatchStdDev
from gan_lightning.networks.mlp import MLPDiscriminator, MLPGenerator
from gan_lightning.networks.noisy_conv import NoisyConvClassifier
from gan_lightning.networks.noisy_mlp import BatchNormMLPGenerator, GaussianNoise, NoisyMLPClassifier
from gan_lightning.networks.pacgan import PackedDiscriminator
from gan_lightning.networks.patchgan import PatchDiscriminator, patch_receptive_field
from gan_lightning.networks.resnet import ResNetDiscriminator, ResNetGenerator
from gan_lightning.networks.srresnet import SRGANDiscriminator, SRResNet
from gan_lightning.networks.stylegan import StyleGAN2Generator
from gan_lightning.networks.text2image import MatchingDiscriminator, TextEncoder, TextToImageGenerator
from gan_lightning.networks.translator import ResNetTranslator
from gan_lightning.networks.unet import UNetGenerator
from gan_lightning.networks.video import (
    MoCoGANGenerator,
    PairDiscriminator,
    TranslatingGenerator,
    VideoDiscriminator,
    WarpingGenerator,
)

__all__ = [
    "BatchNormMLPGenerator",
    "ConditionalBatchNorm2d",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "GaussianNoise",
    "LabelConcatGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "MatchingDiscriminator",
    "MinibatchStdDev",
    "MoCoGANGenerator",
    "NoisyConvClassifier",
    "NoisyMLPClassifier",
    "PackedDiscriminator",
    "PairDiscriminator",
    "PatchDiscriminator",
    "ProjectionDCGANDiscriminator",
    "ProjectionHead",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "ResNetTranslator",
    "SRGANDiscriminator",
    "SRResNet",
    "StyleGAN2Generator",
    "TextEncoder",
    "TextToImageGenerator",
    "TranslatingGenerator",
    "UNetGenerator",
    "VideoDiscriminator",
    "WarpingGenerator",
    "conditional_call",
    "dcgan_init",
    "patch_receptive_field",
]
