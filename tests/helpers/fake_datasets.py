"""Fake data sets written in torchvision's exact on-disk layouts, for tests that must not download."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
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
