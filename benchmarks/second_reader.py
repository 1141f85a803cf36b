"""A second digit reader, of another architecture than the shipped one, trained here.

"Synthetic digits read as their label" should not rest on one classifier: a generator can
learn to please the features of one network. The shipped reader
(:mod:`gan_lightning.mnist.classifier`) is a small max-pooling CNN; this one is an
all-convolutional network with batch norm and global average pooling (Springenberg et al.
2015's "all convolutional net", smaller), trained by the benchmark on the 4,500 MNIST-5k
training digits with every label (random ±2 px shifts), never on the 500 held-out digits it
reports its accuracy on. Seeded: the same seed trains the same reader.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Labelled = tuple[Tensor, Tensor]


def conv_block(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU())


class AllConvReader(nn.Module):
    """Five 3×3 conv + batch-norm layers (strided convs instead of pooling), global average
    pooling, a linear head: ~100k parameters for 28-px digits."""

    def __init__(self, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            conv_block(channels, 32),
            conv_block(32, 32, stride=2),  # 14
            conv_block(32, 64),
            conv_block(64, 64, stride=2),  # 7
            conv_block(64, 96),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(96, num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


def shifted(images: Tensor, generator: torch.Generator, pixels: int = 2) -> Tensor:
    """Each image moved by a random whole-pixel shift in [-pixels, pixels] per axis (zero-padded
    with the background value -1)."""
    size = images.shape[-1]
    padded = F.pad(images, (pixels,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * pixels + 1, (len(images), 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + size, dx : dx + size] for i, (dy, dx) in enumerate(offsets.tolist())])


def train_second_reader(train: Labelled, seed: int = 0, steps: int = 1500, batch_size: int = 64) -> AllConvReader:
    """:class:`AllConvReader` trained ``steps`` Adam steps on ``train`` (images in [-1, 1])."""
    images, labels = train
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AllConvReader(images.shape[1], int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(labels), (batch_size,), generator=generator)
        loss = F.cross_entropy(model(shifted(images[index], generator)), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


@torch.no_grad()
def read_rate(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 500) -> float:
    """Share of ``images`` that ``model`` reads as their label."""
    correct = sum(
        int((model(images[i : i + batch_size]).argmax(dim=1) == labels[i : i + batch_size]).sum())
        for i in range(0, len(labels), batch_size)
    )
    return correct / len(labels)
