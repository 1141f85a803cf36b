"""Feature networks for sample-quality metrics: the space FID, KID and precision/recall live in.

Every metric here compares *features* of real and generated images, so the number depends on
the network as much as on the generator: FID with MNIST-classifier features is not comparable
to FID with Inception features (see docs/metrics.md). A feature network is any ``nn.Module``
mapping images in [-1, 1] to ``(N, D)`` features; :class:`FeatureNetwork` adds class logits
(for mode coverage and the Inception Score) and the feature size.

Configs and the ``evaluate`` command name feature networks by a short name
(``features: mnist``). :data:`FEATURE_NETWORKS` maps each name to a class path that is imported
only when that name is used: the shipped digit classifier belongs to the MNIST demos
(:mod:`gan_lightning.mnist`), which nothing in the core imports.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import WeightsNotFoundError
from gan_lightning.seams import inception_features_and_logits

INCEPTION_WEIGHTS_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"

#: Feature networks by name (``features: <name>`` in configs, ``--features <name>``): the class
#: path each name stands for, imported on use. Each class takes ``weights_path`` (or nothing).
FEATURE_NETWORKS: dict[str, str] = {
    "mnist": "gan_lightning.mnist.MNISTFeatures",  # the shipped digit classifier (offline, 64-d)
    "stacked_mnist": "gan_lightning.mnist.StackedMNISTFeatures",  # its 1,000-mode reading of Stacked MNIST
    "inception": "gan_lightning.metrics.features.InceptionFeatures",  # FID InceptionV3, local weights
}


class FeatureNetwork(nn.Module):
    """A frozen network that embeds images in [-1, 1] for metrics.

    Subclasses implement :meth:`extract`. ``num_classes = 0`` means the network has no
    classifier head: mode coverage and the Inception Score are then unavailable.
    """

    name: str = "custom"
    num_features: int
    num_classes: int = 0

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """``(features (N, D), class logits (N, K) or None)`` of ``images`` in [-1, 1]."""
        raise NotImplementedError

    def forward(self, images: Tensor) -> Tensor:
        return self.extract(images)[0]

    def train(self, mode: bool = True) -> FeatureNetwork:
        """Always in eval mode: dropout/batch-norm must not change features between calls."""
        return super().train(False)


class ModuleFeatures(FeatureNetwork):
    """Wraps a user's ``nn.Module`` (images in [-1, 1] -> features) as a feature network.

    ``num_features`` is found by one forward pass at the first call, since the input shape
    is not known before the data is.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module.requires_grad_(False)
        self.num_features = int(getattr(module, "num_features", 0))
        self.num_classes = int(getattr(module, "num_classes", 0)) if hasattr(module, "extract") else 0
        self.eval()

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        if hasattr(self.module, "extract"):
            return self.module.extract(images)
        features = self.module(images)
        return features.flatten(1), None


class InceptionFeatures(FeatureNetwork):
    """InceptionV3 pool features (2048-d) and logits of torch-fidelity/torchmetrics: the
    network of the published FID numbers (Heusel et al. 2017).

    Grey images are repeated to three channels, then quantised to uint8 as the reference
    implementations do; the network resizes to 299×299 itself (``antialias=False`` matches
    the TF-era resize of the literature).

    Args:
        weights_path: local copy of ``weights-inception-2015-12-05-6726825d.pth``. ``None``
            looks in torch hub's cache (``~/.cache/torch/hub/checkpoints``). No download is
            ever attempted: a missing file fails here, at start-up, not mid-training.
        antialias: resize filter; ``False`` for numbers comparable to papers.
    """

    name = "inception"
    num_classes = 1008

    def __init__(self, weights_path: str | Path | None = None, antialias: bool = False) -> None:
        super().__init__()
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3
            from torchmetrics.utilities.imports import _TORCH_FIDELITY_AVAILABLE
        except ImportError as error:  # pragma: no cover - torchmetrics is a dependency
            raise ImportError("Inception features need torchmetrics: pip install torchmetrics") from error
        if not _TORCH_FIDELITY_AVAILABLE:
            raise ImportError("Inception features need torch-fidelity: pip install torch-fidelity")
        path = self.resolve_weights(weights_path)
        self.network = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=["2048", "logits_unbiased"],
            feature_extractor_weights_path=str(path),
            antialias=antialias,
        )
        self.num_features = 2048
        self.requires_grad_(False).eval()

    @staticmethod
    def resolve_weights(weights_path: str | Path | None) -> Path:
        """The weights file to load, or a ``FileNotFoundError`` that says how to get it."""
        if weights_path is not None:
            candidates = [Path(weights_path).expanduser()]
        else:
            candidates = [Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS_FILE]
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise WeightsNotFoundError(
            f"Inception weights not found at {candidates[0]}. Metrics with `features: inception` need the "
            f"FID InceptionV3 weights offline. Download them once on a machine with internet:\n"
            f"  wget {INCEPTION_WEIGHTS_URL}\n"
            f"then either pass its path as `weights_path` (YAML: model.init_args.metrics.init_args.weights_path, "
            f"next to `features: inception`) or copy the file to "
            f"{Path(torch.hub.get_dir()) / 'checkpoints'}/. Or use `features: mnist` for digit data."
        )

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        if images.shape[1] == 1:
            images = images.repeat(1, 3, 1, 1)
        if images.shape[1] != 3:
            raise ValueError(f"Inception features need 1- or 3-channel images, got {images.shape[1]} channels.")
        pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        features, logits = inception_features_and_logits(self.network, pixels)
        return features.reshape(len(images), -1), logits


def resize_to(images: Tensor, size: int) -> Tensor:
    """Bilinear antialiased resize of square images to ``size`` (identity if already there)."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def feature_network_class(name: str) -> type[FeatureNetwork]:
    """The class :data:`FEATURE_NETWORKS` names ``name``, imported now."""
    if name not in FEATURE_NETWORKS:
        raise ValueError(
            f"Unknown feature network {name!r}: use one of {sorted(FEATURE_NETWORKS)} ('mnist': the shipped digit "
            "classifier, 'stacked_mnist': its 1,000-mode reading of Stacked MNIST, 'inception': FID InceptionV3, "
            "needs a local weights file) or a `class_path` to any nn.Module."
        )
    module_name, _, class_name = FEATURE_NETWORKS[name].rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def build_feature_network(features: str | nn.Module, weights_path: str | Path | None = None) -> FeatureNetwork:
    """A name of :data:`FEATURE_NETWORKS` (built with ``weights_path``), a :class:`FeatureNetwork`
    as it is, or any ``nn.Module`` (images in [-1, 1] → features) wrapped in :class:`ModuleFeatures`."""
    if isinstance(features, FeatureNetwork):
        return features
    if isinstance(features, nn.Module):
        return ModuleFeatures(features)
    return feature_network_class(features)(weights_path)
