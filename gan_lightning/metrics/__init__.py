"""Held-out evaluation, passed to a task as ``metrics=`` (:class:`TaskMetrics`): sample quality
(FID/KID/IS, precision/recall, mode coverage, and their floors), translation scores (L1 beside
the identity and mean-target baselines), restoration scores (PSNR, SSIM beside the bicubic
baseline), clip scores (per-frame FID, motion); and perceptual losses (SRGAN's VGG19 loss).

Feature networks by name (:data:`FEATURE_NETWORKS`: ``mnist``, ``stacked_mnist``,
``inception``) or any ``nn.Module``. The MNIST demos' digit readers are in
:mod:`gan_lightning.mnist`. See docs/metrics.md for the protocol and pitfalls.
"""

from gan_lightning.metrics.base import TaskMetrics, datamodule_of
from gan_lightning.metrics.features import (
    FEATURE_NETWORKS,
    FeatureNetwork,
    InceptionFeatures,
    ModuleFeatures,
    build_feature_network,
)
from gan_lightning.metrics.restoration import (
    PerceptualLoss,
    RestorationScores,
    VGGFeatures,
    VGGLoss,
    bicubic_upscale,
    psnr,
    ssim,
)
from gan_lightning.metrics.suite import GenerativeMetrics
from gan_lightning.metrics.translation import TranslationScores, mean_target
from gan_lightning.metrics.video import ClipScores, HeldOutClips, clip_motion, frame_fid, motion_statistics

__all__ = [
    "FEATURE_NETWORKS",
    "ClipScores",
    "FeatureNetwork",
    "GenerativeMetrics",
    "HeldOutClips",
    "InceptionFeatures",
    "ModuleFeatures",
    "PerceptualLoss",
    "RestorationScores",
    "TaskMetrics",
    "TranslationScores",
    "VGGFeatures",
    "VGGLoss",
    "bicubic_upscale",
    "build_feature_network",
    "clip_motion",
    "datamodule_of",
    "frame_fid",
    "mean_target",
    "motion_statistics",
    "psnr",
    "ssim",
]
