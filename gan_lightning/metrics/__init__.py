"""Sample-quality metrics: FID/KID/IS, precision/recall, mode coverage, and their floors;
restoration metrics (PSNR, SSIM, the bicubic baseline) and a perceptual loss.

Feature networks: ``mnist`` (shipped, offline), ``inception`` (FID InceptionV3, local
weights) or any ``nn.Module``. See docs/metrics.md for the protocol and pitfalls.
"""

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.features import FeatureNetwork, InceptionFeatures, ModuleFeatures
from gan_lightning.metrics.mnist import MNISTClassifier, MNISTFeatures
from gan_lightning.metrics.restoration import PerceptualLoss, bicubic_upscale, psnr, ssim
from gan_lightning.metrics.stacked_mnist import StackedMNISTFeatures, modes_and_kl, read_modes
from gan_lightning.metrics.suite import GenerativeMetrics, build_feature_network
from gan_lightning.metrics.video import clip_motion, clip_statistics, consistency, frame_fid, read_digits

__all__ = [
    "FeatureNetwork",
    "GenerativeMetrics",
    "InceptionFeatures",
    "MNISTClassifier",
    "MNISTFeatures",
    "ModuleFeatures",
    "PerceptualLoss",
    "StackedMNISTFeatures",
    "TaskMetrics",
    "bicubic_upscale",
    "build_feature_network",
    "clip_motion",
    "clip_statistics",
    "consistency",
    "frame_fid",
    "modes_and_kl",
    "psnr",
    "read_digits",
    "read_modes",
    "ssim",
]
