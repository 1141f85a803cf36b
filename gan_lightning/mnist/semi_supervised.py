"""MNIST-5k for semi-supervised learning: k labelled digits per class, the rest of the training
split unlabelled, the same 500 held-out digits as every other MNIST-5k demo."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from gan_lightning.data.semi_supervised import LabelledAndUnlabelled, balanced_subset
from gan_lightning.mnist.digits import MNIST5kDataModule


class MNIST5kSemiSupervisedDataModule(MNIST5kDataModule):
    """Training batches ``(unlabelled, labelled, labels)``, ``batch_size`` of each
    (:class:`~gan_lightning.data.semi_supervised.SemiSupervisedItem`); held-out batches
    ``(images, labels)`` as :class:`MNIST5kDataModule`'s.

    The labelled digits are the ones ``MNIST5kDataModule(labels_per_class=k, labels_seed=s)``
    trains on (so a supervised baseline can use exactly them); the other
    ``4,500 − 10·k`` training digits are unlabelled. The held-out split depends on ``seed`` only.
    """

    def __init__(
        self,
        labels_per_class: int = 10,
        labels_seed: int | None = None,
        batch_size: int = 100,
        val_size: int = 500,
        image_size: int = 28,
        channels: int = 1,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(
            batch_size=batch_size,
            val_size=val_size,
            image_size=image_size,
            channels=channels,
            num_workers=num_workers,
            seed=seed,
            labels_seed=labels_seed,
        )
        if labels_per_class < 1:
            raise ValueError(f"labels_per_class must be a positive number, got {labels_per_class}.")
        # the base is built without labels_per_class, so it keeps the whole training split; this setup splits it
        self.labelled_per_class = labels_per_class

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        super().setup(stage)
        assert isinstance(self.train_set, TensorDataset)
        images, labels = self.train_set.tensors
        keep = balanced_subset(labels, self.labelled_per_class, self.labels_seed, self.num_classes)
        unlabelled = torch.ones(len(labels), dtype=torch.bool)
        unlabelled[keep] = False
        self.check_batch_fits(int(unlabelled.sum()), "unlabelled digits")
        self.labelled_set = TensorDataset(images[keep], labels[keep])
        self.train_set = LabelledAndUnlabelled(images[unlabelled], images[keep], labels[keep])
