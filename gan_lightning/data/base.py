"""A datamodule for data sets small enough to hold as tensors."""

from __future__ import annotations

from abc import abstractmethod

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, TensorDataset

from gan_lightning.data.resumable import EpochSeededRandomSampler, ResumableDataLoader


def scale_images(images: Tensor, image_size: int | None) -> Tensor:
    """Resize square images (antialiased bilinear) when ``image_size`` differs."""
    if image_size is None or images.shape[-1] == image_size:
        return images
    return F.interpolate(
        images, size=(image_size, image_size), mode="bilinear", antialias=True, align_corners=False
    ).clamp(-1, 1)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    shuffle: bool,
    num_workers: int,
    seed: int,
    loader_class: type[ResumableDataLoader] = ResumableDataLoader,
    persistent_workers: bool = True,
) -> DataLoader:
    """The loader every data module uses. Training order depends on (seed, epoch) only and
    its position is checkpointed, so a run resumed mid-epoch sees the same batches as an
    uninterrupted one. The loader's own generator (worker seeds) keeps ``iter()`` from
    consuming the global torch RNG. ``persistent_workers=False`` restarts workers each epoch
    (for data sets whose items depend on the epoch)."""
    return loader_class(
        dataset,
        batch_size=batch_size,
        sampler=EpochSeededRandomSampler(dataset, seed=seed) if shuffle else None,
        drop_last=shuffle,
        num_workers=num_workers,
        persistent_workers=persistent_workers and num_workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )


class SplitDataModule(LightningDataModule):
    """What every data module here shares: validated loader settings, a train split and a
    held-out split built once by :meth:`setup`, and resumable loaders over them.

    Subclasses fill ``train_set`` and ``val_set`` in :meth:`setup`.
    """

    num_classes: int = 0
    #: Real batches per training step: a task whose critic takes ``n_critic`` fresh batches
    #: per iteration sets it (``GAN.setup``); the training loader then yields
    #: ``batches_per_step × batch_size`` samples per step, held-out loaders ``batch_size``.
    batches_per_step: int = 1

    def __init__(self, batch_size: int = 64, num_workers: int = 0, seed: int = 0) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}.")
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.seed = seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    def check_batch_fits(self, train_size: int, unit: str = "samples") -> None:
        if self.batch_size > train_size:
            raise ValueError(
                f"batch_size={self.batch_size} is larger than the training set ({train_size} {unit}): lower it."
            )

    def _loader(self, dataset: Dataset, shuffle: bool, batch_size: int | None = None) -> DataLoader:
        return make_loader(dataset, batch_size or self.batch_size, shuffle, self.num_workers, self.seed)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        assert self.train_set is not None
        step_size = self.batch_size * self.batches_per_step
        if step_size > len(self.train_set):  # type: ignore[arg-type]
            raise ValueError(
                f"One training step takes {self.batches_per_step} batches of {self.batch_size} real samples "
                f"(n_critic fresh batches) but the training set has {len(self.train_set)}: lower batch_size or "
                "n_critic, or set the task's real_batches='reuse'."
            )
        return self._loader(self.train_set, shuffle=True, batch_size=step_size)

    def val_dataloader(self) -> DataLoader | list:
        self.setup()
        assert self.val_set is not None
        return self._loader(self.val_set, shuffle=False) if len(self.val_set) else []  # type: ignore[arg-type]

    def test_dataloader(self) -> DataLoader | list:
        return self.val_dataloader()

    def predict_dataloader(self) -> DataLoader | list:
        return self.val_dataloader()


class InMemoryDataModule(SplitDataModule):
    """Holds samples in [-1, 1] and integer labels as tensors; splits off a validation set
    with a seeded permutation, so the split is the same on every run and every rank.

    Subclasses implement :meth:`load` and set ``num_classes``.
    """

    def __init__(
        self,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        if val_size < 0:
            raise ValueError(f"val_size must be >= 0, got {val_size}.")
        self.val_size = val_size

    @abstractmethod
    def load(self) -> tuple[Tensor, Tensor]:
        """All samples (N, ...) as floats in [-1, 1] and labels (N,) as int64."""

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample, e.g. (1, 28, 28)."""
        self.setup()
        assert isinstance(self.train_set, TensorDataset)
        return tuple(self.train_set.tensors[0].shape[1:])

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        samples, labels = self.load()
        if self.val_size >= len(samples):
            raise ValueError(f"val_size={self.val_size} leaves no training data ({len(samples)} samples in all).")
        order = torch.randperm(len(samples), generator=torch.Generator().manual_seed(self.seed))
        val_idx, train_idx = order[: self.val_size], order[self.val_size :]
        self.check_batch_fits(len(train_idx))
        self.train_set = TensorDataset(samples[train_idx], labels[train_idx])
        self.val_set = TensorDataset(samples[val_idx], labels[val_idx])
