"""MNIST pairs (the pix2pix demo): edge maps and inpainting masks as sources of the digit."""

from __future__ import annotations

import torch

from gan_lightning.mnist import (
    MNIST5kDataModule,
    MNISTPairsDataModule,
)
from gan_lightning.mnist.pairs import edge_map
from tests.conftest import first_batch, in_range


def test_mnist_edges_are_the_target_outline():
    module = MNISTPairsDataModule(task="edges", batch_size=8, val_size=100)
    batch = first_batch(module)
    assert batch.keys() == {"source", "target", "label"}
    assert batch["source"].shape == batch["target"].shape == (8, 1, 32, 32) and in_range(
        batch["source"], batch["target"]
    )
    assert batch["label"].dtype == torch.long and module.num_classes == 10
    assert set(batch["source"].unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(batch["source"], edge_map(batch["target"]))
    val_labels = torch.stack([item["label"] for item in module.val_set])
    reference = MNIST5kDataModule(val_size=100)
    reference.setup()
    assert torch.equal(val_labels, reference.val_set.tensors[1])  # the same held-out digits


def test_mnist_inpaint_masks_one_fixed_half_side_square():
    module = MNISTPairsDataModule(task="inpaint", image_size=32, channels=3, batch_size=4, val_size=10)
    module.setup()
    sources = module.train_set.tensors["source"][:50]
    targets = module.train_set.tensors["target"][:50]
    assert sources.shape == (50, 3, 32, 32)
    changed = sources != targets
    for source, moved in zip(sources, changed, strict=True):
        rows, cols = torch.nonzero(moved[0], as_tuple=True)
        assert rows.max() - rows.min() < 16 and cols.max() - cols.min() < 16
        assert torch.all(source[:, rows, cols] == 0)
    same, other = (
        MNISTPairsDataModule(task="inpaint", val_size=10),
        MNISTPairsDataModule("inpaint", val_size=10, seed=1),
    )
    same.setup()
    other.setup()
    assert torch.equal(same.train_set.tensors["source"][:50], sources[:, :1])
    assert not torch.equal(other.val_set.tensors["source"], same.val_set.tensors["source"])
