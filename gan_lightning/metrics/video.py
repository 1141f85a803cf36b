"""What a generated video should get right, measured on clips (B, C, T, H, W) in [-1, 1].

* **Per-frame FID** — FID (Heusel et al. 2017) of a feature network's features of every
  frame, generated against real; beside its *floor*, real against real of the same size, the
  value a perfect generator would get with that many frames.
* **Motion** — the ink's (bright pixels') centre of mass per frame; a clip's motion is its
  mean frame-to-frame displacement in pixels. Mean ± sd over clips and the fraction of
  (near-)static clips, generated against real.

:class:`ClipScores` computes both at each validation; what the frames *show* (the digit of a
Moving-MNIST clip) is the demo's own metric, :class:`gan_lightning.mnist.ClipDigits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.features import FeatureNetwork, build_feature_network, feature_network_class
from gan_lightning.metrics.functional import frechet_distance

#: A clip whose centre of mass moves less than this (pixels per frame, on average) is static.
STATIC_THRESHOLD = 0.25


def check_clips(clips: Tensor) -> None:
    if clips.dim() != 5:
        raise ValueError(f"clips must have shape (B, C, T, H, W), got {tuple(clips.shape)}.")


def frames_of(clips: Tensor) -> Tensor:
    """(B, C, T, H, W) → (B·T, C, H, W), clip by clip."""
    check_clips(clips)
    return clips.transpose(1, 2).flatten(0, 1)


def ink(frames: Tensor) -> Tensor:
    """Grey ink weights in [0, 1] of (..., C, H, W) frames in [-1, 1] (channels averaged)."""
    return ((frames.float().mean(dim=-3) + 1) / 2).clamp(0, 1)


def centre_of_mass(frames: Tensor) -> Tensor:
    """(..., 2) (row, column) ink centre of (..., C, H, W) frames, in pixels; the canvas centre
    for a blank frame."""
    weights = ink(frames)
    height, width = weights.shape[-2:]
    rows = torch.arange(height, dtype=weights.dtype, device=weights.device)
    cols = torch.arange(width, dtype=weights.dtype, device=weights.device)
    total = weights.sum(dim=(-2, -1))
    row = (weights.sum(dim=-1) * rows).sum(dim=-1)
    col = (weights.sum(dim=-2) * cols).sum(dim=-1)
    blank = total < 1e-6
    centre = torch.stack([row, col], dim=-1) / total.clamp_min(1e-6).unsqueeze(-1)
    middle = torch.tensor([(height - 1) / 2, (width - 1) / 2], dtype=weights.dtype, device=weights.device)
    return torch.where(blank.unsqueeze(-1), middle, centre)


def clip_motion(clips: Tensor) -> Tensor:
    """(B,) mean frame-to-frame displacement of each clip's ink centre of mass, in pixels."""
    check_clips(clips)
    centres = centre_of_mass(clips.transpose(1, 2))  # (B, T, 2)
    return (centres[:, 1:] - centres[:, :-1]).norm(dim=-1).mean(dim=1)


def motion_statistics(clips: Tensor, static_threshold: float = STATIC_THRESHOLD) -> dict[str, float]:
    """``motion_mean``, ``motion_sd`` (pixels per frame, over clips) and ``static_fraction``."""
    motion = clip_motion(clips)
    return {
        "motion_mean": motion.mean().item(),
        "motion_sd": motion.std().item() if len(motion) > 1 else 0.0,
        "static_fraction": (motion < static_threshold).float().mean().item(),
    }


@torch.no_grad()
def frame_features(clips: Tensor, network: FeatureNetwork) -> Tensor:
    """(B·T, D) features of every whole frame."""
    features, _ = network.extract(frames_of(clips).float())
    return features


@torch.no_grad()
def frame_fid(real: Tensor, fake: Tensor, features: FeatureNetwork | str = "mnist") -> float:
    """Per-frame FID of clips ``fake`` against clips ``real`` (``features``: a network or a
    name of :data:`~gan_lightning.metrics.features.FEATURE_NETWORKS`)."""
    network = build_feature_network(features).to(real.device)
    return frechet_distance(frame_features(real, network), frame_features(fake, network))


class HeldOutClips(TaskMetrics):
    """Whole-set scores of generated clips against held-out ones, at the end of each validation.

    :meth:`update` keeps the first ``num_clips`` held-out clips (``batch["video"]``);
    :meth:`compute` draws as many clips from the task (``task.sample(n, generator=...)``,
    seeded by ``seed``: every validation scores the same latents, and the training RNG is
    untouched) and returns :meth:`score` of both. Nothing at a sanity check. Under DDP every
    process scores its own held-out clips and the logged values are averaged.
    """

    def __init__(self, num_clips: int = 64, seed: int = 1) -> None:
        super().__init__()
        if num_clips < 2:
            raise ValueError(f"num_clips must be >= 2 (a spread of clips), got {num_clips}.")
        self.num_clips = num_clips
        self.seed = seed
        self._real: list[Tensor] = []

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        if not isinstance(batch, Mapping) or "video" not in batch:
            raise ValueError(f"{type(self).__name__} scores clip batches {{'video': (B, C, T, H, W)}}.")
        gathered = sum(len(clips) for clips in self._real)
        if gathered < self.num_clips:
            self._real.append(batch["video"][: self.num_clips - gathered].detach())
        return {}

    def compute(self, task: Any) -> dict[str, float]:
        real, self._real = self._real, []
        if not real or task.trainer.sanity_checking:
            return {}
        real_clips = torch.cat(real)
        if len(real_clips) < 2:
            return {}
        generator = torch.Generator(device=real_clips.device).manual_seed(self.seed)
        fake = task.sample(len(real_clips), generator=generator)
        with torch.no_grad():
            return self.score(real_clips, fake)

    def score(self, real: Tensor, fake: Tensor) -> dict[str, float]:
        """The scores of generated clips ``fake`` against held-out clips ``real``."""
        raise NotImplementedError


class ClipScores(HeldOutClips):
    """Per-frame FID and motion of generated clips, with the same motion numbers of the
    held-out clips beside them (``val/frame_fid``, ``val/motion_mean``, ``val/motion_sd``,
    ``val/static_fraction``, ``val/real_motion_*`` ...).

    Args:
        features: the frames' feature network: a name of
            :data:`~gan_lightning.metrics.features.FEATURE_NETWORKS` (``mnist`` for digits) or
            any ``nn.Module`` by ``class_path``.
        weights_path: weights of a named feature network.
        num_clips: held-out clips scored (the first ones), and generated clips drawn.
        seed: seed of the generated clips.
        static_threshold: pixels per frame below which a clip counts as static.
    """

    def __init__(
        self,
        features: str | nn.Module = "mnist",
        weights_path: str | None = None,
        num_clips: int = 64,
        seed: int = 1,
        static_threshold: float = STATIC_THRESHOLD,
    ) -> None:
        super().__init__(num_clips, seed)
        if isinstance(features, str):
            feature_network_class(features)  # an unknown name fails here, not at the first validation
        # Built at the first score, inside validation's forked RNG stream: a network's random
        # initialisation (before its weights load) must not move the training stream. Kept out of
        # the registered submodules: no weights in checkpoints.
        self.__dict__["features"] = features
        self.__dict__["network"] = None
        self.weights_path = weights_path
        self.static_threshold = static_threshold

    def feature_network(self, device: torch.device) -> FeatureNetwork:
        """The frames' feature network on ``device``, built on first use."""
        if self.network is None:
            self.__dict__["network"] = build_feature_network(self.features, self.weights_path)
        return self.network.to(device)

    def score(self, real: Tensor, fake: Tensor) -> dict[str, float]:
        network = self.feature_network(real.device)
        scores = {"frame_fid": frechet_distance(frame_features(real, network), frame_features(fake, network))}
        scores.update(motion_statistics(fake, self.static_threshold))
        scores.update({f"real_{k}": v for k, v in motion_statistics(real, self.static_threshold).items()})
        return scores
