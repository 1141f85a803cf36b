"""The torchvision data modules (MNIST, Fashion-MNIST, CIFAR-10, CelebA) on fake data written to
disk in torchvision's exact layouts, and the in-memory fast path against the per-image PIL one.

Nothing here downloads: the fakes are a handful of images, and the "no network" case is
simulated by refusing every socket connection.
"""

from __future__ import annotations

import socket

import pytest
import torch

from gan_lightning.data import (
    CelebADataModule,
    CIFAR10DataModule,
    DataNotFoundError,
    FashionMNISTDataModule,
    MNISTDataModule,
)
from tests.conftest import first_batch
from tests.helpers.fake_datasets import make_celeba_root, make_cifar_root, make_mnist_root


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
