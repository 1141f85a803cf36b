"""Restoration metrics and losses for super-resolution and translation: PSNR, SSIM, the bicubic
baseline (:class:`RestorationScores` logs them at each validation) and a perceptual (feature) loss.

PSNR and SSIM reward the pixel-wise average of plausible outputs, which is blurry; SRGAN
(Ledig et al. 2017, Sec. 4 and Table 2) trades PSNR for perceptual quality, so report them
beside the bicubic baseline and a perceptual or classifier score, never alone. Images are in
[-1, 1] as everywhere in the project; they are clamped and mapped to [0, 1] and compared on
all channels with no border crop (the SR literature crops the border and uses the Y channel
of YCbCr: numbers here are comparable with each other, not with the papers' tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

from gan_lightning.errors import WeightsNotFoundError
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.features import build_feature_network

Reduction = Literal["mean", "none"]


def _to_unit_range(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    if pred.shape != target.shape or pred.dim() != 4:
        raise ValueError(
            f"pred and target must be image batches of the same shape (B, C, H, W), got {tuple(pred.shape)} "
            f"and {tuple(target.shape)}."
        )
    return (pred.float().clamp(-1, 1) + 1) / 2, (target.float().clamp(-1, 1) + 1) / 2


def psnr(pred: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Peak signal-to-noise ratio in dB, per image then averaged (``reduction="none"``: per
    image, shape (B,)). ``inf`` for identical images."""
    pred, target = _to_unit_range(pred, target)
    per_image = peak_signal_noise_ratio(pred, target, data_range=1.0, dim=(1, 2, 3), reduction="none")
    return per_image.mean() if reduction == "mean" else per_image


def ssim(pred: Tensor, target: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Structural similarity (Wang et al. 2004; 11×11 Gaussian window, σ = 1.5), per image then
    averaged; 1 for identical images."""
    pred, target = _to_unit_range(pred, target)
    if min(pred.shape[-2:]) < 11:
        raise ValueError(f"SSIM's 11x11 window needs images of at least 11 px, got {tuple(pred.shape[-2:])}.")
    per_image = structural_similarity_index_measure(pred, target, data_range=1.0, reduction="none")
    return per_image.mean() if reduction == "mean" else per_image


def bicubic_upscale(lr: Tensor, scale: int) -> Tensor:
    """The baseline every super-resolution number is reported beside (Ledig et al. 2017, Table 2):
    bicubic interpolation by ``scale``, clamped to [-1, 1] (bicubic overshoots at edges)."""
    if lr.dim() != 4 or scale < 1:
        raise ValueError(f"bicubic_upscale needs (B, C, h, w) images and scale >= 1, got {tuple(lr.shape)}, {scale}.")
    return F.interpolate(lr.float(), scale_factor=scale, mode="bicubic", align_corners=False).clamp(-1, 1)


class PerceptualLoss(nn.Module):
    """MSE between the features a frozen network extracts from ``pred`` and from ``target``
    (Johnson et al. 2016, Eq. 2; Ledig et al. 2017, Eq. 5, on VGG's φ5,4).

    Features of a network trained to recognise the content are closer for images a viewer
    calls alike than pixels are, so the generator is not pushed towards the blurry
    pixel-wise mean. The network stays frozen and in eval mode; gradients flow to ``pred``.

    Args:
        feature_network: a name of :data:`~gan_lightning.metrics.features.FEATURE_NETWORKS`
            (``"mnist"``: the shipped MNIST classifier, its 64-d penultimate features, unit RMS;
            images of any size and 1 or 3 channels), or any ``nn.Module`` mapping images in
            [-1, 1] to a feature tensor (e.g. a truncated VGG built in YAML).
        weights_path: a local ``state_dict`` file: the named network's weights, or loaded into
            ``feature_network`` (a module). Nothing is ever downloaded.
    """

    def __init__(self, feature_network: nn.Module | str = "mnist", weights_path: str | Path | None = None) -> None:
        super().__init__()
        if isinstance(feature_network, str):
            feature_network = build_feature_network(feature_network, weights_path)
        elif weights_path is not None:
            path = Path(weights_path)
            if not path.is_file():
                raise WeightsNotFoundError(f"PerceptualLoss weights not found at {path}: pass a local state_dict file.")
            feature_network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.feature_network = feature_network.requires_grad_(False).eval()

    def train(self, mode: bool = True) -> PerceptualLoss:
        """The feature network stays in eval mode: dropout/batch-norm must not change features."""
        super().train(mode)
        self.feature_network.eval()
        return self

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        if pred.shape != target.shape:
            raise ValueError(
                f"PerceptualLoss needs pred and target of one shape, got {tuple(pred.shape)}, {tuple(target.shape)}."
            )
        with torch.no_grad():
            target_features = self.feature_network(target)
        return F.mse_loss(self.feature_network(pred).float(), target_features.float())


class RestorationScores(TaskMetrics):
    """PSNR and SSIM of the task's outputs against the targets, always beside the same numbers
    of the bicubic upscale of the sources (Ledig et al. 2017, Table 2): a super-resolution
    number means little without its baseline. Logged as ``val/psnr``, ``val/ssim``,
    ``val/psnr_bicubic``, ``val/ssim_bicubic``.

    Reads ``batch["source"]`` (LR), ``batch["target"]`` (HR) and ``outputs["output"]`` (SR),
    as :class:`~gan_lightning.tasks.SRGAN` makes them; the scale is the ratio of HR to LR.
    """

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        lr, hr, sr = batch["source"], batch["target"], outputs["output"].float()
        bicubic = bicubic_upscale(lr, hr.shape[-1] // lr.shape[-1])
        return {
            "psnr": psnr(sr, hr),
            "ssim": ssim(sr, hr),
            "psnr_bicubic": psnr(bicubic, hr),
            "ssim_bicubic": ssim(bicubic, hr),
        }
