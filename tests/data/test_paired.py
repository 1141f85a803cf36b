"""PairedImageFolderDataModule (pix2pix's layouts): side-by-side images and A/B folders paired
by name, grey sources, seeded held-out splits, and jittered crops that keep source and target
aligned, vary per epoch and resume mid-epoch exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DistributedSampler

from gan_lightning.data import (
    DataNotFoundError,
    PairedImageFolderDataModule,
    SuperResolutionFolderDataModule,
    UnmatchedPairsError,
    UnpairedImageFolderDataModule,
)
from gan_lightning.data.translation import EpochDataLoader
from tests.conftest import first_batch, in_range
from tests.data.conftest import assert_same_batches, epoch_batches
from tests.helpers.fake_datasets import make_side_by_side, noise_image


def test_side_by_side_left_half_is_a_and_val_is_its_folder(tmp_path):
    make_side_by_side(tmp_path, {"train": 4, "val": 3, "test": 2})
    module = PairedImageFolderDataModule(tmp_path, layout="side_by_side", image_size=8, batch_size=2)
    batch = first_batch(module)
    assert batch.keys() == {"source", "target"}
    assert batch["source"].shape == batch["target"].shape == (2, 3, 8, 8) and in_range(*batch.values())
    assert torch.all(batch["source"][:, 2] == -1) and torch.all(batch["target"][:, 2] == 1)  # A has no blue, B is blue
    assert torch.equal(batch["source"][:, 0], batch["target"][:, 1])  # red of A == green of B: same pair
    assert len(module.train_set) == 4 and len(module.val_set) == 3

    swapped = first_batch(PairedImageFolderDataModule(tmp_path, layout="side_by_side", direction="BtoA", image_size=8))
    assert torch.all(swapped["source"][:, 2] == 1) and torch.all(swapped["target"][:, 2] == -1)


def test_side_by_side_without_train_folder_names_it(tmp_path):
    with pytest.raises(DataNotFoundError, match=str(tmp_path / "train")):
        PairedImageFolderDataModule(tmp_path, layout="side_by_side").setup()


def make_ab_folders(root: Path, count: int, size: int = 10) -> None:
    (root / "A" / "sub").mkdir(parents=True)
    (root / "B" / "sub").mkdir(parents=True)
    for i in range(count):
        folder = "sub" if i % 2 else ""
        Image.new("RGB", (size, size), (20 * i, 0, 0)).save(root / "A" / folder / f"{i}.png")
        Image.new("RGB", (size, size), (0, 20 * i, 0)).save(root / "B" / folder / f"{i}.jpg", quality=100)


def test_folders_pair_by_name_grey_source_and_seeded_val_split(tmp_path):
    make_ab_folders(tmp_path, 6)
    module = PairedImageFolderDataModule(tmp_path, image_size=8, source_channels=1, batch_size=2, val_size=2)
    batch = first_batch(module)
    assert batch["source"].shape == (2, 1, 8, 8) and batch["target"].shape == (2, 3, 8, 8)
    assert module.channels == 3 and len(module.train_set) == 4 and len(module.val_set) == 2
    for item in [*module.train_set, *module.val_set]:  # grey of (20i, 0, 0) vs green 20i of the partner
        red = (item["source"].mean() + 1) * 127.5 / 0.299
        green = (item["target"][1].mean() + 1) * 127.5
        assert abs(red - green) < 4
    again = PairedImageFolderDataModule(tmp_path, image_size=8, source_channels=1, batch_size=2, val_size=2)
    again.setup()
    assert module.val_set.pairs == again.val_set.pairs  # the same held-out pairs on every run


def test_folders_under_train_with_val_folder(tmp_path):
    make_ab_folders(tmp_path / "train", 4)
    make_ab_folders(tmp_path / "val", 2)
    module = PairedImageFolderDataModule(tmp_path, image_size=8, batch_size=2)
    module.setup()
    assert len(module.train_set) == 4 and len(module.val_set) == 2
    assert all("val" in path_a.parts for path_a, _ in module.val_set.pairs)


def test_unmatched_names_are_a_clear_error(tmp_path):
    make_ab_folders(tmp_path, 3)
    Image.new("RGB", (10, 10)).save(tmp_path / "A" / "extra.png")
    with pytest.raises(UnmatchedPairsError, match=r"1 in .*A have no partner.*extra\.png"):
        PairedImageFolderDataModule(tmp_path, image_size=8).setup()


def test_missing_root_names_the_path(tmp_path):
    missing = tmp_path / "nowhere"
    for module in (
        PairedImageFolderDataModule(missing),
        UnpairedImageFolderDataModule(missing),
        SuperResolutionFolderDataModule(missing),
    ):
        with pytest.raises(DataNotFoundError, match=str(missing)):
            module.prepare_data()
        with pytest.raises(DataNotFoundError, match=str(missing)):
            module.setup()


def make_identical_pairs(root: Path, count: int, size: int = 16) -> None:
    """A and B the same noise image: any misalignment between source and target shows."""
    for folder in ("A", "B"):
        (root / folder).mkdir(parents=True)
    for i in range(count):
        for folder in ("A", "B"):
            noise_image(i, (size, size)).save(root / folder / f"{i}.png")


def test_jitter_crops_and_mirrors_source_and_target_alike_and_varies_per_epoch(tmp_path):
    make_identical_pairs(tmp_path, 4)
    module = PairedImageFolderDataModule(tmp_path, image_size=16, batch_size=2, jitter=True)
    module.setup()
    loader = module.train_dataloader()
    first, second = epoch_batches(loader, 0), epoch_batches(loader, 1)
    for batch in first + second:
        assert batch["source"].shape == (2, 3, 16, 16) and torch.equal(batch["source"], batch["target"])
    plain = PairedImageFolderDataModule(tmp_path, image_size=16, batch_size=4, val_size=0)
    plain.setup()
    unjittered = torch.stack([item["source"] for item in plain.train_set])
    assert not any(torch.equal(image, reference) for image in first[0]["source"] for reference in unjittered)
    module.train_set.set_epoch(0)
    items = [module.train_set[i]["source"] for i in range(4)]
    module.train_set.set_epoch(1)
    assert not all(torch.equal(item, module.train_set[i]["source"]) for i, item in enumerate(items))  # new crops
    module.train_set.set_epoch(0)
    assert all(torch.equal(item, module.train_set[i]["source"]) for i, item in enumerate(items))  # the same again


def test_jitter_resumes_mid_epoch_exactly_and_ignores_workers(tmp_path):
    make_identical_pairs(tmp_path, 8)

    def loader(num_workers: int = 0):
        module = PairedImageFolderDataModule(
            tmp_path, image_size=16, batch_size=2, jitter=True, num_workers=num_workers
        )
        return module.train_dataloader()

    reference = epoch_batches(loader(), 1)
    interrupted = loader()
    interrupted.sampler.set_epoch(1)
    iterator = iter(interrupted)
    seen = [next(iterator) for _ in range(2)]
    state = interrupted.state_dict()
    assert state == {"epoch": 1, "batches_delivered": 2}
    resumed = loader()
    resumed.load_state_dict(state)
    assert_same_batches(seen + list(resumed), reference)
    with_worker, without = loader(num_workers=1), loader()
    assert_same_batches(
        epoch_batches(with_worker, 0) + epoch_batches(with_worker, 1), epoch_batches(without, 0) + reference
    )


def test_distributed_sampler_keeps_the_epoch_loader_and_its_epoch(tmp_path):
    """Under DDP Lightning rebuilds the loader around a DistributedSampler: the epoch still reaches the dataset."""
    from lightning.pytorch.utilities.data import _update_dataloader

    make_identical_pairs(tmp_path, 4)
    module = PairedImageFolderDataModule(tmp_path, image_size=16, batch_size=1, jitter=True)
    sampler = DistributedSampler(module.train_dataloader().dataset, num_replicas=2, rank=0, shuffle=True, seed=0)
    replaced = _update_dataloader(module.train_dataloader(), sampler, mode="fit")
    assert isinstance(replaced, EpochDataLoader) and not replaced.persistent_workers
    replaced.sampler.set_epoch(3)
    list(replaced)
    assert replaced.dataset.epoch == 3
