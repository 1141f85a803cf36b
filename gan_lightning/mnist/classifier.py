"""A small MNIST digit classifier whose penultimate layer gives offline FID features.

Inception features need a 100 MB download and describe ImageNet photos, not digits. This
CNN (≈66k parameters, weights shipped in ``gan_lightning/assets/``) is trained by
``scripts/train_mnist_classifier.py`` on MNIST-5k; its 64-d penultimate activations give
FID/KID/precision-recall for digit data, and its predictions give mode coverage. Numbers
from it are comparable only with numbers from the same weights (see docs/metrics.md).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.errors import WeightsNotFoundError
from gan_lightning.metrics.features import FeatureNetwork, resize_to
from gan_lightning.mnist.digits import MNIST_SIZE

MNIST_WEIGHTS = "mnist_classifier.pt"


class MNISTClassifier(nn.Module):
    """Three 3×3 conv layers (16, 32, 32 channels; 2×2 max-pooling after the first two), a
    64-unit hidden layer, a linear head (≈66k parameters, 260 KB).

    Input: (N, 1, 28, 28) in [-1, 1]. ``features`` returns the 64-d hidden activations
    divided by ``feature_scale`` (their RMS on the training set, set by the training script),
    so features have unit scale like Inception's and KID's cubic kernel stays well conditioned.
    """

    num_features = 64
    num_classes = 10

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 14×14
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 7×7
            nn.Conv2d(32, 32, 3),  # 5×5
            nn.ReLU(),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Linear(32 * 5 * 5, self.num_features),
            nn.ReLU(),
        )
        self.head = nn.Linear(self.num_features, self.num_classes)
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, images: Tensor) -> Tensor:
        return self.body(images) / self.feature_scale

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        hidden = self.body(images)
        return hidden / self.feature_scale, self.head(hidden)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.features(images))


def to_mnist_frame(images: Tensor, digit_box: int = MNIST_SIZE) -> Tensor:
    """Resize grey images in [-1, 1] to ``digit_box`` px and centre them on a 28×28 canvas of -1."""
    images = resize_to(images, digit_box)
    if digit_box == MNIST_SIZE:
        return images
    before = (MNIST_SIZE - digit_box) // 2
    after = MNIST_SIZE - digit_box - before
    return F.pad(images, (before, after, before, after), value=-1.0)


def default_weights_path() -> Path:
    """The weights shipped with the package."""
    return Path(str(resources.files("gan_lightning") / "assets" / MNIST_WEIGHTS))


class MNISTFeatures(FeatureNetwork):
    """The shipped MNIST classifier as a feature network.

    Accepts 1- or 3-channel images in [-1, 1] of any square size: colour is averaged to grey
    and images are resized (bilinear, antialiased) to ``digit_box``×``digit_box`` pixels and
    centred on a 28×28 black canvas. MNIST digits fill the central 20×20 box of their 28×28
    frame, so the default 28 suits MNIST at any resolution (e.g. 32-px DCGAN outputs), while
    digits that fill their frame, like scikit-learn's 8×8 ones, read far better with 20 (see
    the accuracies in docs/metrics.md).

    Args:
        weights_path: a ``state_dict`` of :class:`MNISTClassifier`; default: the shipped one.
        digit_box: side of the box the input is resized into, at most 28.
    """

    name = "mnist"
    num_features = MNISTClassifier.num_features
    num_classes = MNISTClassifier.num_classes

    def __init__(self, weights_path: str | Path | None = None, digit_box: int = MNIST_SIZE) -> None:
        super().__init__()
        if not 1 <= digit_box <= MNIST_SIZE:
            raise ValueError(f"digit_box must be between 1 and {MNIST_SIZE} pixels, got {digit_box}.")
        self.digit_box = digit_box
        path = Path(weights_path) if weights_path is not None else default_weights_path()
        if not path.is_file():
            raise WeightsNotFoundError(
                f"MNIST classifier weights not found at {path}. Reinstall gan-lightning (the file ships in "
                "gan_lightning/assets/) or train them with `python scripts/train_mnist_classifier.py`."
            )
        self.classifier = MNISTClassifier()
        self.classifier.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        self.requires_grad_(False).eval()

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        if images.dim() != 4 or images.shape[1] not in (1, 3):
            raise ValueError(
                f"MNIST features need images of shape (N, 1 or 3, H, W), got {tuple(images.shape)}: "
                "use another feature network (features: inception or your own class_path) for this data."
            )
        images = to_mnist_frame(images.float().mean(dim=1, keepdim=True), self.digit_box)
        return self.classifier.features_and_logits(images)


@functools.cache
def shipped_digit_reader(device: str = "cpu") -> MNISTFeatures:
    """The shipped MNIST classifier on ``device``, loaded once per process: the yardstick every
    demo reads digits with ("does the output still show the right digit?"). Metrics keep it
    out of their state dict: it is a measuring instrument, not part of the model."""
    return MNISTFeatures().to(device)


def read_digits(images: Tensor) -> Tensor:
    """(N,) the digit the shipped classifier reads in each image (1 or 3 channels, any size, [-1, 1])."""
    _, logits = shipped_digit_reader(str(images.device)).extract(images.float())
    return logits.argmax(dim=1)


def digit_accuracy(images: Tensor, labels: Tensor) -> Tensor:
    """Fraction of ``images`` in which the shipped classifier reads ``labels``."""
    return (read_digits(images) == labels.to(images.device)).float().mean()
