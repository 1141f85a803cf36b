"""Restoration metrics and losses for super-resolution and translation: PSNR, SSIM, the bicubic
baseline (:class:`RestorationScores` logs them at each validation) and perceptual (feature)
losses, among them SRGAN's VGG19 content loss (:class:`VGGLoss`).

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
from torchvision.models import VGG19_Weights, vgg19

from gan_lightning.errors import WeightsNotFoundError
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.features import build_feature_network

Reduction = Literal["mean", "none"]

#: torchvision's ImageNet VGG19 weights: the file torchvision's own download would write to
#: torch hub's cache (``<torch.hub.get_dir()>/checkpoints/``), named after the last part of its URL.
VGG19_WEIGHTS_URL = VGG19_Weights.IMAGENET1K_V1.url
VGG19_WEIGHTS_FILE = Path(VGG19_WEIGHTS_URL).name  # vgg19-dcbb9e9d.pth
#: φi,j of Ledig et al. 2017 (the j-th conv, after its ReLU, before the i-th max-pooling) as the
#: number of leading layers of torchvision's ``vgg19().features``.
VGG19_LAYERS = {"2_2": 9, "5_4": 36}
#: SRGAN rescales the VGG feature maps by 1/12.75 "to obtain VGG losses of a scale that is
#: comparable to the MSE loss" (Ledig et al. 2017, Sec. 3.2).
VGG_FEATURE_SCALE = 1 / 12.75
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


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


def vgg19_weights_file(weights_path: str | Path | None) -> Path:
    """``weights_path``, or torch hub's cached copy of torchvision's VGG19 when None; a
    :class:`WeightsNotFoundError` naming the expected file when it is not there."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
    else:
        path = Path(torch.hub.get_dir()) / "checkpoints" / VGG19_WEIGHTS_FILE
    if not path.is_file():
        raise WeightsNotFoundError(
            f"VGG19 weights not found at {path}: the VGG loss reads torchvision's ImageNet VGG19 "
            f"({VGG19_WEIGHTS_FILE}, {VGG19_WEIGHTS_URL}) from a local file and never downloads it. "
            f"Fetch that file once on a machine with internet and pass its path as `weights_path` "
            f"(model.init_args.perceptual.init_args.weights_path) or copy it to {path.parent}/."
        )
    return path


def vgg19_features(weights_path: str | Path | None, end: int) -> nn.Sequential:
    """The first ``end`` layers of torchvision's ``vgg19().features`` with the weights of a
    local file (torchvision's whole-model state_dict, or only its ``features.*`` entries)."""
    path = vgg19_weights_file(weights_path)
    with torch.device("meta"):  # no random initialisation of 143 M parameters only to overwrite them
        layers = vgg19().features[:end]
    state = torch.load(path, map_location="cpu", weights_only=True)
    wanted = {name for name in layers.state_dict()}
    found = {name.removeprefix("features."): tensor for name, tensor in state.items() if name.startswith("features.")}
    missing = sorted(wanted - found.keys())
    if missing:
        raise ValueError(
            f"{path} is not torchvision's VGG19 state_dict: it lacks features.{missing[0]} "
            f"(and {len(missing) - 1} more). Use {VGG19_WEIGHTS_FILE} ({VGG19_WEIGHTS_URL})."
        )
    layers.load_state_dict({name: found[name] for name in wanted}, assign=True)
    return layers


class VGGFeatures(nn.Module):
    """VGG19's φi,j feature maps (Ledig et al. 2017, Sec. 2.2.1), multiplied by ``scale``, of
    images in [-1, 1]: mapped to [0, 1] and normalised with ImageNet's mean and std as VGG was
    trained; grey images are repeated to three channels. Frozen, from a local weights file.

    Args:
        weights_path: torchvision's ``vgg19-dcbb9e9d.pth``; None: torch hub's cache.
        layer: ``"5_4"`` (SRGAN's VGG54) or ``"2_2"`` (VGG22, the paper's low-level variant).
        scale: factor of the feature maps (1/12.75 in SRGAN).
    """

    def __init__(
        self,
        weights_path: str | Path | None = None,
        layer: Literal["2_2", "5_4"] = "5_4",
        scale: float = VGG_FEATURE_SCALE,
    ) -> None:
        super().__init__()
        if layer not in VGG19_LAYERS:
            raise ValueError(f"VGG layer must be one of {sorted(VGG19_LAYERS)}, got {layer!r}.")
        self.layers = vgg19_features(weights_path, VGG19_LAYERS[layer]).requires_grad_(False).eval()
        self.scale = scale
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> Tensor:
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        if images.shape[1] != 3:
            raise ValueError(f"VGG features need 1- or 3-channel images, got {images.shape[1]} channels.")
        normalised = ((images + 1) / 2 - self.mean) / self.std
        return self.layers(normalised) * self.scale


class VGGLoss(PerceptualLoss):
    """SRGAN's content loss l_VGG/i,j (Ledig et al. 2017, Eq. 5): the MSE between VGG19's φ5,4
    features of SR and of HR, feature maps rescaled by 1/12.75 (Sec. 3.2; equivalent to the
    loss times ≈ 0.006). With ``adversarial_weight=1e-3`` and no pixel MSE it is the paper's
    SRGAN-VGG54. The weights are read from a local file, never downloaded; a missing file is a
    one-line :class:`WeightsNotFoundError` naming the path it looked at.

    Args:
        weights_path: torchvision's ImageNet VGG19 (``vgg19-dcbb9e9d.pth``, the last part of
            ``torchvision.models.VGG19_Weights.IMAGENET1K_V1.url``); None: torch hub's cache,
            ``<torch.hub.get_dir()>/checkpoints/vgg19-dcbb9e9d.pth``, where torchvision puts it.
        layer: ``"5_4"`` (VGG54, the paper's SRGAN) or ``"2_2"`` (VGG22).
        scale: the factor of the feature maps.
    """

    def __init__(
        self,
        weights_path: str | Path | None = None,
        layer: Literal["2_2", "5_4"] = "5_4",
        scale: float = VGG_FEATURE_SCALE,
    ) -> None:
        super().__init__(VGGFeatures(weights_path, layer, scale))


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
