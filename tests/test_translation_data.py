"""The image-to-image datamodules (pix2pix, CycleGAN, SRGAN): tiny folders written with PIL,
MNIST-5k demos, batch contracts, layouts, clear errors, and exact mid-epoch resume."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from torch.utils.data import DistributedSampler

from gan_lightning.data import (
    DataNotFoundError,
    PairedImageFolderDataModule,
    SuperResolutionFolderDataModule,
    TooSmallImagesError,
    UnmatchedPairsError,
    UnpairedImageFolderDataModule,
    bicubic_downsample,
)
from gan_lightning.data.translation import EpochDataLoader
from gan_lightning.metrics import bicubic_upscale
from gan_lightning.mnist import (
    STYLES,
    MNIST5kDataModule,
    MNISTPairsDataModule,
    MNISTStylesDataModule,
    MNISTSuperResolutionDataModule,
    apply_style,
    in_style,
)
from gan_lightning.mnist.pairs import edge_map
from tests.conftest import REPO_ROOT


def noise_image(seed: int, size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    generator = torch.Generator().manual_seed(seed)
    channels = 3 if mode == "RGB" else 1
    pixels = torch.randint(256, (size[1], size[0], channels), generator=generator, dtype=torch.uint8)
    return Image.fromarray(pixels.squeeze(-1).numpy(), mode)


def first_batch(module, train: bool = True) -> dict[str, torch.Tensor]:
    module.setup("fit")
    return next(iter(module.train_dataloader() if train else module.val_dataloader()))


def epoch_batches(loader, epoch: int) -> list[dict[str, torch.Tensor]]:
    loader.sampler.set_epoch(epoch)
    return list(loader)


def assert_same_batches(first: list[dict], second: list[dict]) -> None:
    assert len(first) == len(second)
    for one, other in zip(first, second, strict=True):
        assert one.keys() == other.keys()
        for key in one:
            assert torch.equal(one[key], other[key]), key


def in_range(*images: torch.Tensor) -> bool:
    return all(image.dtype == torch.float32 and image.min() >= -1 and image.max() <= 1 for image in images)


# ----------------------------------------------------------------------------- paired folders


def make_side_by_side(root: Path, counts: dict[str, int], size: int = 12) -> None:
    """Each file: A (left) a solid colour with red = 20·i, B (right) solid blue-ish with green = 20·i."""
    for split, count in counts.items():
        (root / split).mkdir(parents=True)
        for i in range(count):
            image = Image.new("RGB", (2 * size, size), (20 * i, 0, 0))
            image.paste((0, 20 * i, 255), (size, 0, 2 * size, size))
            image.save(root / split / f"{i}.png")


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


# ----------------------------------------------------------------------------- MNIST pairs


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


# ----------------------------------------------------------------------------- unpaired


def make_unpaired(root: Path, counts: dict[str, int], size: int = 10) -> None:
    """Domain A images have red = 20·i, domain B images green = 20·i: items name themselves."""
    for name, count in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            colour = (20 * i, 0, 0) if name.endswith("A") else (0, 20 * i, 0)
            Image.new("RGB", (size, size), colour).save(root / name / f"{i}.png")


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


def test_mnist_styles_halves_are_disjoint_and_styled():
    module = MNISTStylesDataModule(style="thick_inverted", batch_size=4, val_size=100)
    batch = first_batch(module)
    assert batch.keys() == {"a", "b", "label_a", "label_b"}
    assert batch["a"].shape == batch["b"].shape == (4, 1, 32, 32) and in_range(batch["a"], batch["b"])
    a, b, val = (set(indices.tolist()) for indices in (module.indices_a, module.indices_b, module.indices_val))
    assert not (a & b) and not (a & val) and not (b & val) and len(a | b | val) == 5000
    digits = MNIST5kDataModule(image_size=32, val_size=0).load()[0]
    domain_b = module.train_set.domain_b.tensors
    assert torch.equal(domain_b["image"], apply_style(digits[module.indices_b], "thick_inverted"))
    assert torch.equal(module.train_set.domain_a.tensors["image"], digits[module.indices_a])
    held_out = module.val_set.tensors
    assert torch.equal(held_out["b"], apply_style(held_out["a"], "thick_inverted"))
    assert torch.equal(held_out["label_a"], held_out["label_b"])


@pytest.mark.parametrize("style", STYLES)
def test_style_statistic_separates_the_domains(style):
    module = MNISTStylesDataModule(style=style, val_size=500)
    module.setup()
    plain, styled = module.train_set.domain_a.tensors["image"], module.train_set.domain_b.tensors["image"]
    accuracy = (in_style(plain, "plain").float().mean() + in_style(styled, style).float().mean()) / 2
    assert accuracy >= 0.99
    assert (~in_style(plain, style)).float().mean() >= 0.99 and (~in_style(styled, "plain")).float().mean() >= 0.99


# ----------------------------------------------------------------------------- super-resolution


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


def test_mnist_super_resolution():
    module = MNISTSuperResolutionDataModule(scale=4, batch_size=4, val_size=100)
    batch = first_batch(module)
    assert batch.keys() == {"source", "target", "label"}
    assert batch["source"].shape == (4, 1, 7, 7) and batch["target"].shape == (4, 1, 28, 28)
    assert torch.equal(batch["source"], bicubic_downsample(batch["target"], 4)) and in_range(batch["source"])
    rgb = first_batch(MNISTSuperResolutionDataModule(scale=2, image_size=32, channels=3))
    assert rgb["source"].shape[1:] == (3, 16, 16) and rgb["target"].shape[1:] == (3, 32, 32)


# ----------------------------------------------------------------------------- arguments and configs


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: PairedImageFolderDataModule("x", layout="stacked"), "layout must be one of"),
        (lambda: PairedImageFolderDataModule("x", direction="AB"), "direction must be one of"),
        (lambda: PairedImageFolderDataModule("x", source_channels=2), "channels must be 1"),
        (lambda: PairedImageFolderDataModule("x", image_size=0), "image_size must be a positive integer"),
        (lambda: PairedImageFolderDataModule("x", val_size=-1), "val_size must be"),
        (lambda: MNISTPairsDataModule(task="colour"), "task must be one of"),
        (lambda: MNISTStylesDataModule(style="bold"), "style must be one of"),
        (lambda: UnpairedImageFolderDataModule("x", batch_size=0), "batch_size must be a positive integer"),
        (
            lambda: SuperResolutionFolderDataModule("x", crop_size=90, scale=4),
            "crop_size=90 must be divisible by scale=4",
        ),
        (lambda: SuperResolutionFolderDataModule("x", scale=1), "scale must be an integer >= 2"),
        (lambda: MNISTSuperResolutionDataModule(scale=3, image_size=28), "image_size=28 must be divisible"),
    ],
)
def test_bad_arguments_fail_at_construction(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_val_size_that_leaves_nothing_is_explained():
    with pytest.raises(ValueError, match="val_size=5000 leaves no training data"):
        MNISTPairsDataModule(val_size=5000).setup()
    with pytest.raises(ValueError, match="larger than the training set"):
        MNISTStylesDataModule(val_size=4990, batch_size=64).setup()


@pytest.mark.parametrize("config", ["pix2pix_folder.yaml", "cyclegan_folder.yaml", "sr_folder.yaml"])
def test_data_configs_build_their_module(tmp_path, config):
    section = yaml.safe_load((REPO_ROOT / "configs" / "data" / config).read_text())["data"]
    module_name, class_name = section["class_path"].rsplit(".", 1)
    if config == "pix2pix_folder.yaml":
        make_side_by_side(tmp_path, {"train": 2, "val": 1})
    elif config == "cyclegan_folder.yaml":
        make_unpaired(tmp_path, {"trainA": 2, "trainB": 2, "testA": 1, "testB": 1}, size=300)
    else:
        for i in range(3):
            noise_image(i, (100, 100)).save(tmp_path / f"{i}.png")
    module = getattr(importlib.import_module(module_name), class_name)(
        **{**section["init_args"], "root": tmp_path, "batch_size": 1}
    )
    module.setup()
    batch = next(iter(module.train_dataloader()))
    assert all(in_range(image) for image in batch.values())
