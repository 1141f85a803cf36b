"""SuperResolutionFolderDataModule: low-resolution sources as the bicubic downsample of a random
high-resolution crop, per epoch and per seed, and images smaller than the crop named."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.data import (
    SuperResolutionFolderDataModule,
    TooSmallImagesError,
    bicubic_downsample,
)
from gan_lightning.metrics import bicubic_upscale
from tests.conftest import first_batch, in_range
from tests.helpers.fake_datasets import noise_image


def test_sr_folder_lr_is_the_bicubic_downsample_of_the_hr_crop(tmp_path):
    for i in range(5):
        noise_image(i, (40, 36)).save(tmp_path / f"{i}.png")
    module = SuperResolutionFolderDataModule(tmp_path, scale=4, crop_size=16, batch_size=2, val_size=1)
    batch = first_batch(module)
    assert batch.keys() == {"source", "target"} and in_range(*batch.values())
    assert batch["source"].shape == (2, 3, 4, 4) and batch["target"].shape == (2, 3, 16, 16)
    assert torch.equal(batch["source"], bicubic_downsample(batch["target"], 4))
    held_out = module.val_set[0]  # the first tile of the centred 2×2 grid of 16-px tiles of its file
    full = noise_image(int(module.val_set.tiles[0][0].stem), (40, 36))
    tile = torch.from_numpy(np.array(full.crop((4, 2, 20, 18)))).permute(2, 0, 1)
    assert torch.equal(held_out["target"], tile.float() / 127.5 - 1)


def test_bicubic_downsample_matches_pil_and_upscale_is_the_baseline():
    smooth = noise_image(0, (32, 32)).resize((16, 16)).resize((32, 32), Image.Resampling.BICUBIC)
    hr = torch.from_numpy(np.array(smooth)).permute(2, 0, 1).float() / 127.5 - 1
    pil_lr = smooth.resize((8, 8), Image.Resampling.BICUBIC, reducing_gap=None)
    pil = torch.from_numpy(np.array(pil_lr)).permute(2, 0, 1).float() / 127.5 - 1
    assert (bicubic_downsample(hr, 4) - pil).abs().max() < 0.03
    assert bicubic_upscale(bicubic_downsample(hr[None], 4), 4).shape == (1, 3, 32, 32)


def test_sr_folder_random_crops_vary_per_epoch_and_repeat_per_seed(tmp_path):
    for i in range(3):
        noise_image(i, (40, 40), "L").save(tmp_path / f"{i}.png")

    def train_set(seed: int = 0):
        module = SuperResolutionFolderDataModule(tmp_path, scale=2, crop_size=8, channels=1, batch_size=1, seed=seed)
        module.setup()
        return module.train_set

    first, again = train_set(), train_set()
    epoch_0 = first[0]["target"]
    assert epoch_0.shape == (1, 8, 8) and torch.equal(epoch_0, again[0]["target"])
    first.set_epoch(1)
    assert not torch.equal(epoch_0, first[0]["target"])


def test_sr_folder_images_smaller_than_the_crop_are_named(tmp_path):
    noise_image(0, (40, 40)).save(tmp_path / "big.png")
    noise_image(1, (20, 30)).save(tmp_path / "small.png")
    with pytest.raises(TooSmallImagesError, match=r"small\.png \(20×30\).*crop_size"):
        SuperResolutionFolderDataModule(tmp_path, crop_size=24).setup()
