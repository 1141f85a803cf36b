"""The image datamodules on fake data written to disk in torchvision's exact layouts.

Nothing here downloads: the fakes are a handful of images, and the "no network" case is
simulated by refusing every socket connection.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets

from gan_lightning.cli import GANLightningCLI
from gan_lightning.data import (
    CelebADataModule,
    CIFAR10DataModule,
    DataNotFoundError,
    FashionMNISTDataModule,
    ImageFolderDataModule,
    MNISTDataModule,
)
from tests.conftest import REPO_ROOT
from tests.helpers.fake_datasets import make_cifar_root, md5

# ----------------------------------------------------------------------------- fakes


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


def first_batch(module):
    module.prepare_data()
    module.setup("fit")
    return next(iter(module.train_dataloader()))


# ----------------------------------------------------------------------------- torchvision layouts


@pytest.mark.parametrize(
    ("module_class", "folder"), [(MNISTDataModule, "MNIST"), (FashionMNISTDataModule, "FashionMNIST")]
)
def test_mnist_layouts_give_scaled_batches_with_labels(tmp_path, module_class, folder):
    made = make_mnist_root(tmp_path, folder)
    module = module_class(root=tmp_path, batch_size=4, seed=0)
    images, labels = first_batch(module)
    assert images.shape == (4, 1, 28, 28) and images.dtype == torch.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert labels.dtype == torch.long and set(labels.tolist()) <= set(range(10))
    # The held-out split is torchvision's test split, unshuffled: its first image is ours.
    val_images, val_labels = next(iter(module.val_dataloader()))
    assert len(module.val_set) == len(made["t10k"][1])
    first = val_images[0, 0]
    assert torch.allclose(first[:, :14], torch.tensor(-1.0)) and torch.allclose(first[:, 14:], torch.tensor(1.0))
    assert val_labels.tolist() == made["t10k"][1].tolist()


def test_mnist_resized_to_rgb_and_val_subset(tmp_path):
    make_mnist_root(tmp_path, num_test=8)
    module = MNISTDataModule(root=tmp_path, batch_size=2, image_size=32, channels=3, val_size=3)
    images, _ = first_batch(module)
    assert images.shape == (2, 3, 32, 32)
    assert torch.equal(images[:, 0], images[:, 1])  # grey replicated
    assert len(module.val_set) == 3


def test_cifar10_layout(tmp_path, monkeypatch):
    make_cifar_root(tmp_path, monkeypatch)
    module = CIFAR10DataModule(root=tmp_path, batch_size=5)
    images, labels = first_batch(module)
    assert images.shape == (5, 3, 32, 32)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert len(module.train_set) == 15 and len(module.val_set) == 3
    assert set(labels.tolist()) <= set(range(10))


def test_cifar10_damaged_file_is_a_clear_error(tmp_path, monkeypatch):
    make_cifar_root(tmp_path, monkeypatch)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"truncated")
    module = CIFAR10DataModule(root=tmp_path, batch_size=2)
    with pytest.raises(DataNotFoundError, match=r"damaged or incomplete.*download: true"):
        module.setup("fit")


def test_celeba_layout_64px_and_attribute_labels(tmp_path, monkeypatch):
    smiling = make_celeba_root(tmp_path, monkeypatch)
    module = CelebADataModule(root=tmp_path, batch_size=4, label_attribute="Smiling")
    module.prepare_data()
    module.setup("fit")
    assert len(module.train_set) == 4 and len(module.val_set) == 2
    image, label = module.train_set[1]
    assert image.shape == (3, 64, 64) and label == smiling[1]
    # colour (20, 100, 200) survives the crop/resize up to JPEG error
    assert torch.allclose(image[:, 32, 32], torch.tensor([20, 100, 200]) / 127.5 - 1, atol=0.05)
    images, labels = next(iter(module.train_dataloader()))
    assert images.shape == (4, 3, 64, 64) and labels.dtype == torch.long
    with pytest.raises(ValueError, match="no attribute 'Smile'"):
        CelebADataModule(root=tmp_path, batch_size=2, label_attribute="Smile").setup()


@pytest.mark.parametrize("module_class", [MNISTDataModule, FashionMNISTDataModule, CIFAR10DataModule, CelebADataModule])
def test_missing_root_fails_at_start_up_with_the_fix(tmp_path, module_class):
    module = module_class(root=tmp_path / "nowhere", batch_size=2)
    for hook in (module.prepare_data, module.setup):
        with pytest.raises(DataNotFoundError, match=r"not found under root=.*nowhere.*download: true.*init_args.root"):
            hook()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("module_class", [MNISTDataModule, CIFAR10DataModule])
def test_download_without_network_is_a_clear_error(tmp_path, no_network, module_class):
    module = module_class(root=tmp_path, download=True, batch_size=2)
    with pytest.raises(DataNotFoundError, match=r"Could not download .*unreachable.*download: false"):
        module.prepare_data()


def test_download_is_skipped_when_the_data_is_there(tmp_path, no_network):
    make_mnist_root(tmp_path)
    module = MNISTDataModule(root=tmp_path, download=True, batch_size=2)
    module.prepare_data()  # would fail on the blocked network if it tried
    assert first_batch(module)[0].shape == (2, 1, 28, 28)


# ----------------------------------------------------------------------------- image folders


def make_image_folder(root: Path) -> None:
    (root / "cats" / "indoor").mkdir(parents=True)
    (root / "dogs").mkdir(parents=True)
    (root / ".thumbnails").mkdir()
    # 2:1 image, red and blue bands at the ends: a centre crop keeps only green, stretching would not.
    wide = Image.new("RGB", (40, 20), (0, 255, 0))
    wide.paste((255, 0, 0), (0, 0, 6, 20))
    wide.paste((0, 0, 255), (34, 0, 40, 20))
    wide.save(root / "cats" / "wide.png")
    Image.new("RGB", (24, 24), (255, 255, 255)).save(root / "cats" / "indoor" / "white.jpg")
    Image.new("L", (16, 16), 0).save(root / "dogs" / "black.png")
    Image.new("RGB", (16, 16)).save(root / ".thumbnails" / "hidden.png")
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")


def test_image_folder_recursive_classes_and_skipped_files(tmp_path):
    make_image_folder(tmp_path)
    module = ImageFolderDataModule(root=tmp_path, batch_size=3, image_size=16, channels=3)
    with pytest.warns(UserWarning, match=r"Skipped 2 file\(s\).*broken.png.*notes.txt"):
        module.setup("fit")
    assert module.classes == ["cats", "dogs"] and module.num_classes == 2
    items = {tuple(image[:, 8, 8].tolist()): label for image, label in module.train_set}
    assert len(items) == 3
    assert items[(-1.0, 1.0, -1.0)] == 0  # the wide image, centre-cropped to pure green
    assert items[(1.0, 1.0, 1.0)] == 0  # cats/indoor/white.jpg: nested, still class "cats"
    assert items[(-1.0, -1.0, -1.0)] == 1  # grey dog replicated to RGB
    wide = next(image for image, _ in module.train_set if image[1, 8, 8] == 1.0 and image[0, 8, 8] == -1.0)
    assert torch.all(wide[0] == -1.0) and torch.all(wide[2] == -1.0)  # no red or blue band: not stretched
    images, labels = next(iter(module.train_dataloader()))
    assert images.shape == (3, 3, 16, 16) and labels.dtype == torch.long


def test_image_folder_grey_flat_folder_and_val_split(tmp_path):
    for i in range(5):
        Image.new("RGB", (12, 12), (50 * i, 0, 0)).save(tmp_path / f"{i}.png")
    module = ImageFolderDataModule(root=tmp_path, batch_size=2, image_size=8, channels=1, val_size=2)
    images, labels = first_batch(module)
    assert images.shape == (2, 1, 8, 8) and labels.tolist() == [0, 0]
    assert module.num_classes == 0 and len(module.train_set) == 3 and len(module.val_set) == 2


def test_image_folder_bad_files_can_fail_the_run(tmp_path):
    make_image_folder(tmp_path)
    module = ImageFolderDataModule(root=tmp_path, batch_size=2, image_size=16, on_bad_file="error")
    with pytest.raises(ValueError, match=r"2 file\(s\).*broken.png.*on_bad_file: skip"):
        module.setup("fit")


def test_image_folder_missing_or_empty_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="is not a folder"):
        ImageFolderDataModule(root=tmp_path / "nowhere").prepare_data()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="No images found"):
        ImageFolderDataModule(root=tmp_path / "empty").setup()


# ----------------------------------------------------------------------------- configs


def cli_args(data_config: str, root: Path) -> list[str]:
    args = ["--config", str(REPO_ROOT / "configs/wgan.yaml"), "--config", str(REPO_ROOT / "configs/data" / data_config)]
    args += ["--trainer.logger=false", "--data.init_args.batch_size=2"]
    if data_config not in ("mnist5k.yaml", "digits8x8.yaml"):
        args.append(f"--data.init_args.root={root}")
    return args


def _cli_with(data_config: str, root: Path) -> GANLightningCLI:
    return GANLightningCLI(args=cli_args(data_config, root), run=False)


# Image-to-image data (dict batches) feeds the translation tasks, not wgan: tests/test_translation_data.py;
# (image, caption) data feeds text-to-image: tests/test_text2image.py.
IMAGE_TO_IMAGE_DATA_CONFIGS = {"pix2pix_folder.yaml", "cyclegan_folder.yaml", "sr_folder.yaml", "captions.yaml"}


@pytest.mark.parametrize(
    "data_config",
    sorted(
        path.name
        for path in (REPO_ROOT / "configs/data").glob("*.yaml")
        if path.name not in IMAGE_TO_IMAGE_DATA_CONFIGS
    ),
)
def test_every_data_config_composes_with_wgan_and_feeds_its_networks(tmp_path, monkeypatch, data_config):
    """`--config configs/wgan.yaml --config configs/data/X.yaml`: the networks follow the
    data's image_size and channels, and a real batch goes through D and matches G's output."""
    monkeypatch.setattr("sys.argv", ["lightning"])
    if data_config == "mnist.yaml":
        make_mnist_root(tmp_path)
    elif data_config == "fashion_mnist.yaml":
        make_mnist_root(tmp_path, "FashionMNIST")
    elif data_config == "cifar10.yaml":
        make_cifar_root(tmp_path, monkeypatch)
    elif data_config == "celeba.yaml":
        make_celeba_root(tmp_path, monkeypatch)
    elif data_config == "image_folder.yaml":
        for i in range(4):
            Image.new("RGB", (70, 80), (i, 0, 0)).save(tmp_path / f"{i}.png")
    cli = _cli_with(data_config, tmp_path)
    data, model = cli.datamodule, cli.model
    if data_config == "image_folder.yaml":
        data.val_size = 0
    data.prepare_data()
    data.setup("fit")
    images, labels = next(iter(data.train_dataloader()))
    assert images.shape[1:] == (data.channels, data.image_size, data.image_size)
    assert model.discriminator(images).shape == (2,)
    assert model.sample(2).shape == images.shape
    assert labels.shape == (2,)


def test_wgan_with_cifar10_config_trains_a_step(tmp_path, monkeypatch):
    """The documented composition trains: `--config configs/wgan.yaml --config configs/data/cifar10.yaml`
    (3-channel 32-px networks, validation with the config's metrics), on a fake CIFAR root."""
    monkeypatch.setattr("sys.argv", ["lightning"])
    root = tmp_path / "data"
    make_cifar_root(root, monkeypatch, per_batch=4)
    overrides = [
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=1",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.val_check_interval=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
        "--model.init_args.n_critic=1",
        "--model.init_args.metrics.init_args.num_samples=8",
        "--data.init_args.val_size=4",
    ]
    cli = GANLightningCLI(args=[*cli_args("cifar10.yaml", root), *overrides], run=False)
    cli.trainer.fit(cli.model, cli.datamodule)
    assert cli.trainer.global_step == 1
    assert cli.model.sample(2).shape == (2, 3, 32, 32)
    assert "val/fid" in cli.trainer.callback_metrics


@pytest.mark.parametrize(
    ("module_class", "options"),
    [
        (MNISTDataModule, {"image_size": 32, "channels": 3}),
        (MNISTDataModule, {"image_size": 14, "channels": 1, "center_crop": 20}),
        (CIFAR10DataModule, {"image_size": 16, "channels": 1}),
        (CIFAR10DataModule, {"image_size": 32, "channels": 3}),
    ],
)
def test_in_memory_arrays_match_the_per_image_pil_path(tmp_path, monkeypatch, module_class, options):
    """The fast path (whole uint8 tensor resized once) gives the images PIL gives per item."""
    if module_class is MNISTDataModule:
        make_mnist_root(tmp_path)
    else:
        make_cifar_root(tmp_path, monkeypatch)
    fast = module_class(root=tmp_path, batch_size=2, in_memory=True, **options)
    slow = module_class(root=tmp_path, batch_size=2, in_memory=False, **options)
    fast.setup("fit")
    slow.setup("fit")
    assert len(fast.train_set) == len(slow.train_set) and len(fast.val_set) == len(slow.val_set)
    for index in range(len(fast.train_set)):
        (fast_image, fast_label), (slow_image, slow_label) = fast.train_set[index], slow.train_set[index]
        assert (
            fast_image.shape == slow_image.shape == (options["channels"], options["image_size"], options["image_size"])
        )
        assert int(fast_label) == int(slow_label)
        assert (fast_image - slow_image).abs().max() <= 3 * 2 / 255  # within 3 grey levels


def test_cli_reports_missing_data_in_one_line(tmp_path, monkeypatch):
    """`lightning fit` with no data: one `error: ...` line naming the fix, not a traceback."""
    from gan_lightning.cli import main

    monkeypatch.setattr("sys.argv", ["lightning"])
    args = ["fit", *cli_args("cifar10.yaml", tmp_path / "nowhere"), "--trainer.max_steps=1"]
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    message = str(exit_info.value.code)
    assert message.startswith("error: CIFAR-10 not found under root=") and "download: true" in message
    assert "\n" not in message
