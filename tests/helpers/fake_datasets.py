"""Fake data written to disk for tests that must not download: torchvision's exact layouts
(MNIST IDX files, CIFAR-10 pickles, CelebA folders) and image folders for the image-to-image data."""

from __future__ import annotations

import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def make_cifar_root(root: Path, monkeypatch: pytest.MonkeyPatch, per_batch: int = 3) -> None:
    """cifar-10-batches-py with tiny pickles; torchvision's md5 table is pointed at them."""
    folder = root / datasets.CIFAR10.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    names = [name for name, _ in datasets.CIFAR10.train_list + datasets.CIFAR10.test_list]
    for index, name in enumerate(names):
        entry = {
            "data": rng.integers(0, 256, size=(per_batch, 3 * 32 * 32)).astype(np.uint8),
            "labels": [(index + i) % 10 for i in range(per_batch)],
        }
        (folder / name).write_bytes(pickle.dumps(entry))
    meta = folder / datasets.CIFAR10.meta["filename"]
    meta.write_bytes(pickle.dumps({"label_names": [f"class{i}" for i in range(10)]}))
    monkeypatch.setattr(datasets.CIFAR10, "train_list", [[n, md5(folder / n)] for n, _ in datasets.CIFAR10.train_list])
    monkeypatch.setattr(datasets.CIFAR10, "test_list", [[n, md5(folder / n)] for n, _ in datasets.CIFAR10.test_list])
    monkeypatch.setattr(datasets.CIFAR10, "meta", {**datasets.CIFAR10.meta, "md5": md5(meta)})


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """IDX3 file (LeCun's MNIST format): magic 0x00000803, then N, H, W big-endian."""
    path.write_bytes(struct.pack(">IIII", 0x803, *images.shape) + images.astype(np.uint8).tobytes())


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    path.write_bytes(struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes())


def make_mnist_root(root: Path, folder: str = "MNIST", num_train: int = 12, num_test: int = 4) -> dict:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    made = {}
    for split, num in (("train", num_train), ("t10k", num_test)):
        images = rng.integers(0, 256, size=(num, 28, 28)).astype(np.uint8)
        images[0] = 0
        images[0, :, 14:] = 255  # first image: left half black, right half white
        labels = np.arange(num) % 10
        write_idx_images(raw / f"{split}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{split}-labels-idx1-ubyte", labels)
        made[split] = (images, labels)
    return made


def make_celeba_root(root: Path, monkeypatch: pytest.MonkeyPatch, num: int = 8) -> list[int]:
    """celeba/ with 178×218 JPEGs and the five annotation files; returns 'Smiling' per image."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(num)]
    partition = [0] * (num - 4) + [1, 1, 2, 2]  # train..., two valid, two test (torchvision fails on one)
    smiling = [i % 2 for i in range(num)]
    for i, name in enumerate(names):
        Image.new("RGB", (178, 218), (20 * i, 100, 200)).save(folder / "img_align_celeba" / name)
    lines = {
        "list_eval_partition.txt": [f"{n} {p}" for n, p in zip(names, partition, strict=True)],
        "identity_CelebA.txt": [f"{n} {i}" for i, n in enumerate(names)],
        "list_bbox_celeba.txt": [str(num), "image_id x_1 y_1 width height"] + [f"{n} 1 2 3 4" for n in names],
        "list_landmarks_align_celeba.txt": [str(num), " ".join(f"p{k}" for k in range(10))]
        + [f"{n} " + " ".join("5" for _ in range(10)) for n in names],
        "list_attr_celeba.txt": [str(num), "Male Smiling "]
        + [f"{n}  -1  {1 if s else -1}" for n, s in zip(names, smiling, strict=True)],
    }
    for filename, rows in lines.items():
        (folder / filename).write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(
        datasets.CelebA,
        "file_list",
        [
            (fid, md5(folder / name) if (folder / name).exists() else h, name)
            for fid, h, name in datasets.CelebA.file_list
        ],
    )
    return smiling


def noise_image(seed: int, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    generator = torch.Generator().manual_seed(seed)
    channels = 3 if mode == "RGB" else 1
    pixels = torch.randint(256, (size[1], size[0], channels), generator=generator, dtype=torch.uint8)
    return Image.fromarray(pixels.squeeze(-1).numpy(), mode)


def make_side_by_side(root: Path, counts: dict[str, int], size: int = 12) -> None:
    """Each file: A (left) a solid colour with red = 20·i, B (right) solid blue-ish with green = 20·i."""
    for split, count in counts.items():
        (root / split).mkdir(parents=True)
        for i in range(count):
            image = Image.new("RGB", (2 * size, size), (20 * i, 0, 0))
            image.paste((0, 20 * i, 255), (size, 0, 2 * size, size))
            image.save(root / split / f"{i}.png")


def make_unpaired(root: Path, counts: dict[str, int], size: int = 10) -> None:
    """Domain A images have red = 20·i, domain B images green = 20·i: items name themselves."""
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            colour = (20 * i, 0, 0) if name.endswith("A") else (0, 20 * i, 0)
            Image.new("RGB", (size, size), colour).save(root / name / f"{i}.png")


def write_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        Image.new("RGB", (20, 12), (20 * i, 100, 200)).save(path)
        paths.append(path)
    return paths
