"""UnpairedImageFolderDataModule (CycleGAN's trainA/trainB layout): B drawn independently of A
over the longer domain, a missing domain named, and jittered crops that resume exactly."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.data import (
    DataNotFoundError,
    UnpairedImageFolderDataModule,
)
from tests.conftest import first_batch
from tests.data.conftest import assert_same_batches, epoch_batches
from tests.helpers.fake_datasets import make_unpaired, noise_image


def identity(image: torch.Tensor, channel: int) -> int:
    return round(float((image[channel].mean() + 1) * 127.5) / 20)


def test_unpaired_folders_draw_b_independently_over_max_length(tmp_path):
    make_unpaired(tmp_path, {"trainA": 3, "trainB": 5, "testA": 2, "testB": 2})
    module = UnpairedImageFolderDataModule(tmp_path, image_size=8, batch_size=1)
    batch = first_batch(module)
    assert batch.keys() == {"a", "b"} and batch["a"].shape == batch["b"].shape == (1, 3, 8, 8)
    assert len(module.train_set) == 5 and len(module.val_set) == 2
    pairings = []
    for epoch in (0, 1):
        module.train_set.set_epoch(epoch)
        items = [module.train_set[i] for i in range(5)]
        assert [identity(item["a"], 0) for item in items] == [0, 1, 2, 0, 1]  # A index = i mod |A|
        assert sorted(identity(item["b"], 1) for item in items) == [0, 1, 2, 3, 4]  # each B once an epoch
        pairings.append([identity(item["b"], 1) for item in items])
    assert pairings[0] != pairings[1]  # no fixed partner


def test_unpaired_folders_missing_domain_is_named(tmp_path):
    make_unpaired(tmp_path, {"trainA": 2})
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "trainB")):
        UnpairedImageFolderDataModule(tmp_path, image_size=8).setup()


def test_unpaired_jitter_resumes_exactly(tmp_path):
    make_unpaired(tmp_path, {"testA": 1, "testB": 1})
    for name in ("trainA", "trainB"):
        (tmp_path / name).mkdir()
        for i in range(6):
            noise_image(i + (10 if name == "trainB" else 0), (12, 12)).save(tmp_path / name / f"{i}.png")

    def loader():
        return UnpairedImageFolderDataModule(tmp_path, image_size=8, batch_size=2, jitter=True).train_dataloader()

    reference = epoch_batches(loader(), 2)
    interrupted = loader()
    interrupted.sampler.set_epoch(2)
    seen = [next(iter(interrupted))]
    resumed = loader()
    resumed.load_state_dict(interrupted.state_dict())
    assert_same_batches(seen + list(resumed), reference)
