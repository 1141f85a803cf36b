"""The small digit classifier of the data-augmentation study and its one fixed recipe.

A fresh network is trained from scratch for every training set (never the shipped MNIST
evaluator of :mod:`gan_lightning.mnist.classifier`, which was trained on real digits), with the
same recipe whatever the set: a fixed number of steps, Adam, no augmentation, no early
stopping (there is no validation split to stop on: the held-out digits are the test set).
Seeded and deterministic on the CPU: the same seed gives the same initial weights to the
classifiers it compares, and each source's batches come from its own seeded stream.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Labelled = tuple[Tensor, Tensor]  # images (N, C, H, W) in [-1, 1], labels (N,)


@dataclass(frozen=True)
class ClassifierRecipe:
    """How every classifier of the study is trained: ``steps`` Adam steps of ``batch_size``
    images at learning rate ``lr``. ``real_fraction`` is the share of real images in each
    batch when real and synthetic images are mixed (0.5: half and half, whatever the sizes
    of the two sets, so a small real set is not drowned by a large synthetic one)."""

    steps: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    real_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 2 or self.lr <= 0:
            raise ValueError("steps must be >= 1, batch_size >= 2 and lr > 0.")
        if not 0 < self.real_fraction < 1:
            raise ValueError(f"real_fraction must be strictly between 0 and 1, got {self.real_fraction}.")

    def mixed_counts(self) -> tuple[int, int]:
        """(real, synthetic) images per batch of the mixed training set."""
        real = min(self.batch_size - 1, max(1, round(self.batch_size * self.real_fraction)))
        return real, self.batch_size - real


class DigitCNN(nn.Module):
    """Two 3×3 conv layers (16, 32 channels, 2×2 max-pooling after each), a 64-unit hidden
    layer and a linear head: ~110k parameters for 28-px digits."""

    def __init__(self, image_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10) -> None:
        super().__init__()
        channels, height, width = image_shape
        if height % 4 or width % 4:
            raise ValueError(f"DigitCNN needs an image size divisible by 4 (two 2x poolings), got {height}x{width}.")
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * (height // 4) * (width // 4), 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


def epoch_indices(size: int, generator: torch.Generator) -> Iterator[int]:
    """Indices of ``0..size-1`` forever, one fresh seeded permutation per pass: every item is
    used once before any is used twice."""
    while True:
        yield from torch.randperm(size, generator=generator).tolist()


def mixed_batches(sizes: Sequence[int], counts: Sequence[int], steps: int, seed: int) -> Iterator[list[Tensor]]:
    """For each of ``steps`` batches, ``counts[i]`` indices into source ``i`` (of ``sizes[i]``
    items), each source read in its own seeded permutations."""
    streams = [epoch_indices(size, torch.Generator().manual_seed(seed * 1009 + i)) for i, size in enumerate(sizes)]
    for _ in range(steps):
        yield [
            torch.tensor([next(stream) for _ in range(count)], dtype=torch.long)
            for stream, count in zip(streams, counts, strict=True)
        ]


def train_classifier(
    sources: Sequence[Labelled], counts: Sequence[int], recipe: ClassifierRecipe, seed: int = 0, num_classes: int = 10
) -> DigitCNN:
    """A fresh :class:`DigitCNN` trained for ``recipe.steps`` steps on batches holding
    ``counts[i]`` images of ``sources[i]``. Leaves the global RNG as it was."""
    if len(sources) != len(counts) or not sources or any(count < 0 for count in counts) or sum(counts) < 1:
        raise ValueError("Give one non-negative batch count per source, at least one image per batch.")
    shape = tuple(sources[0][0].shape[1:])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = DigitCNN(shape, num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    model.train()
    for indices in mixed_batches([len(labels) for _, labels in sources], counts, recipe.steps, seed):
        images = torch.cat([source[0][index] for source, index in zip(sources, indices, strict=True)])
        labels = torch.cat([source[1][index] for source, index in zip(sources, indices, strict=True)])
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """Share of ``images`` whose arg-max class is the label."""
    correct = sum(
        int((model(images[i : i + batch_size]).argmax(dim=1) == labels[i : i + batch_size]).sum())
        for i in range(0, len(labels), batch_size)
    )
    return correct / len(labels)
