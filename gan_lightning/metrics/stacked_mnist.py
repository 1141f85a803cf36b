"""Counting the 1,000 modes of Stacked MNIST (Metz et al. 2017; PacGAN, Lin et al. 2018,
Tables 2-3): the shipped MNIST classifier reads each colour channel, the three digits name
the mode, and a generator is scored by the modes it draws at least once and by
KL(generated mode histogram ‖ uniform over 1,000 modes) from 26,000 samples.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from gan_lightning.data.stacked_mnist import NUM_MODES, stack_modes
from gan_lightning.metrics.features import FeatureNetwork
from gan_lightning.metrics.functional import class_coverage
from gan_lightning.metrics.mnist import MNISTClassifier, MNISTFeatures


class StackedMNISTFeatures(FeatureNetwork):
    """The MNIST classifier on each channel of a 3-channel image: features are the three
    channels' features side by side; the 1,000 logits are the joint log-probabilities
    ``log p(r) + log p(g) + log p(b)``, so their argmax is the mode ``100·r + 10·g + b``.
    With ``features: stacked_mnist``, :class:`GenerativeMetrics`' mode coverage counts the
    1,000 modes."""

    name = "stacked_mnist"
    num_features = 3 * MNISTClassifier.num_features
    num_classes = NUM_MODES

    def __init__(self, weights_path: str | Path | None = None) -> None:
        super().__init__()
        self.reader = MNISTFeatures(weights_path)

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"Stacked MNIST images have 3 channels: (N, 3, H, W), got {tuple(images.shape)}.")
        channels = images.transpose(0, 1).reshape(-1, 1, *images.shape[2:])  # (3N, 1, H, W), red first
        features, logits = self.reader.extract(channels)
        assert logits is not None
        count = len(images)
        red, green, blue = logits.log_softmax(dim=1).view(3, count, -1)
        joint = red[:, :, None, None] + green[:, None, :, None] + blue[:, None, None, :]
        return features.view(3, count, -1).transpose(0, 1).reshape(count, -1), joint.reshape(count, -1)


@torch.no_grad()
def read_modes(images: Tensor, reader: StackedMNISTFeatures, batch_size: int = 500) -> Tensor:
    """The mode (0..999) of each image ``(N, 3, H, W)`` in [-1, 1]."""
    modes = []
    for start in range(0, len(images), batch_size):
        _, logits = reader.extract(images[start : start + batch_size])
        modes.append(logits.argmax(dim=1))
    return torch.cat(modes)


def mode_histogram(modes: Tensor) -> Tensor:
    """Counts of each of the 1,000 modes."""
    return torch.bincount(modes.flatten().cpu(), minlength=NUM_MODES)[:NUM_MODES]


def modes_and_kl(modes: Tensor) -> tuple[int, float]:
    """``(modes drawn at least once, KL(generated ‖ uniform))`` — PacGAN's two columns."""
    return class_coverage(mode_histogram(modes), torch.ones(NUM_MODES))


def modes_of_labels(labels: Tensor) -> Tensor:
    """Modes from known per-channel digits ``(N, 3)`` — e.g. to check the reader on real data."""
    return stack_modes(labels)
