"""The SRGAN demo's data: MNIST-5k digits as HR images, their bicubic downsampling as LR
(28 → 7 px at ×4), offline. Batches ``{"source": LR, "target": HR, "label"}`` in [-1, 1]."""

from __future__ import annotations

from torch.utils.data import Dataset

from gan_lightning.data.embedded import check_channels, repeat_channels
from gan_lightning.data.super_resolution import bicubic_downsample, check_scale
from gan_lightning.data.translation import (
    TensorDictDataset,
    TranslationDataModule,
    check_held_out,
    check_positive,
    seeded_split,
)
from gan_lightning.mnist.digits import mnist5k_digits


class MNISTSuperResolutionDataModule(TranslationDataModule):
    """Offline SRGAN demo from MNIST-5k: HR is the digit at ``image_size`` (28, or 32 for
    networks that want powers of two), LR its :func:`bicubic_downsample` by ``scale`` (28 → 7
    px at ×4). Batches ``{"source", "target", "label"}``. The held-out digits are
    ``MNIST5kDataModule``'s with the same seed and val_size.
    """

    num_classes = 10

    def __init__(
        self,
        scale: int = 4,
        image_size: int = 28,
        channels: int = 1,
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.image_size = check_positive("image_size", image_size)
        self.scale = check_scale(scale, image_size, "image_size")
        self.channels = check_channels(channels)
        self.val_size = check_held_out(val_size)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(self.image_size)
        targets = repeat_channels(digits, self.channels)
        sources = bicubic_downsample(targets, self.scale)
        train_idx, val_idx = seeded_split(len(digits), self.val_size, self.seed)
        return tuple(  # type: ignore[return-value]
            TensorDictDataset(source=sources[idx], target=targets[idx], label=labels[idx])
            for idx in (train_idx, val_idx)
        )
