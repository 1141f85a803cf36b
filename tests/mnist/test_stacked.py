"""Stacked MNIST: the data has the 1,000 modes it claims, and the mode counter reads them."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.data.translation import seeded_split
from gan_lightning.metrics import build_feature_network
from gan_lightning.mnist import StackedMNISTDataModule, StackedMNISTFeatures, mnist5k_digits, modes_and_kl, read_modes
from gan_lightning.mnist.classifier import shipped_digit_reader
from gan_lightning.mnist.stacked import stack_modes


@pytest.fixture(scope="module")
def data() -> StackedMNISTDataModule:
    module = StackedMNISTDataModule(num_images=3000, num_val_images=600, batch_size=16)
    module.setup()
    return module


@pytest.fixture(scope="module")
def reader() -> StackedMNISTFeatures:
    return StackedMNISTFeatures()


def test_images_are_three_digits_and_labels_name_them(data):
    images, labels = next(iter(data.train_dataloader()))
    assert images.shape == (16, 3, 28, 28) and labels.dtype == torch.int64
    assert images.min() >= -1 and images.max() <= 1
    digits = shipped_digit_reader().classifier
    per_channel = digits(images.transpose(0, 1).reshape(-1, 1, 28, 28)).argmax(dim=1).view(3, -1).T
    read = stack_modes(per_channel)
    assert (read == labels).float().mean() >= 0.8  # the classifier reads ~98 % of digits right


def test_held_out_images_use_held_out_digits_only(data):
    digits, _ = mnist5k_digits(28)
    train_idx, val_idx = seeded_split(len(digits), data.val_size, data.seed)
    held_out = {tuple(digits[i].flatten().tolist()[:200:7]) for i in val_idx.tolist()}
    for index in range(0, 600, 50):
        image, _ = data.val_set[index]
        for channel in image:
            assert tuple(channel.flatten().tolist()[:200:7]) in held_out
    assert len(data.train_set.digits) == len(train_idx)


def test_same_seed_same_images_other_seed_other_images():
    first, second, other = (StackedMNISTDataModule(num_images=64, seed=s) for s in (0, 0, 1))
    for module in (first, second, other):
        module.setup()
    assert torch.equal(first.train_set.triplets, second.train_set.triplets)
    assert not torch.equal(first.train_set.triplets, other.train_set.triplets)


def test_data_modes_are_uniform():
    module = StackedMNISTDataModule(num_images=50_000)
    module.setup()
    modes = stack_modes(module.train_set.labels[module.train_set.triplets])
    covered, kl = modes_and_kl(modes)
    assert covered == 1000
    assert kl < 0.02  # sampling noise only: about (1000 - 1) / (2 · 50,000)


def test_joint_logits_name_the_mode_of_the_three_readings(data, reader):
    images = torch.stack([data.val_set[i][0] for i in range(32)])
    _, joint = reader.extract(images)
    per_channel = shipped_digit_reader().classifier(images.transpose(0, 1).reshape(-1, 1, 28, 28))
    expected = stack_modes(per_channel.argmax(dim=1).view(3, -1).T)
    assert joint.shape == (32, 1000)
    assert torch.equal(joint.argmax(dim=1), expected)


def test_reader_recovers_the_modes_of_held_out_images(data, reader):
    images = torch.stack([data.val_set[i][0] for i in range(600)])
    labels = torch.stack([data.val_set[i][1] for i in range(600)])
    assert (read_modes(images, reader, batch_size=200) == labels).float().mean() > 0.9


def test_modes_and_kl_against_uniform():
    assert modes_and_kl(torch.arange(1000).repeat(3)) == (1000, pytest.approx(0.0, abs=1e-12))
    covered, kl = modes_and_kl(torch.full((500,), 7))
    assert covered == 1 and kl == pytest.approx(math.log(1000))
    covered, kl = modes_and_kl(torch.arange(500))  # half the modes, evenly
    assert covered == 500 and kl == pytest.approx(math.log(2))


def test_feature_network_by_name_and_bad_input(reader):
    assert isinstance(build_feature_network("stacked_mnist"), StackedMNISTFeatures)
    with pytest.raises(ValueError, match="3 channels"):
        reader.extract(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="val_size"):
        StackedMNISTDataModule(val_size=0)


def test_validation_metrics_count_modes_against_uniform(data, reader):
    from gan_lightning.metrics import GenerativeMetrics

    images = torch.stack([data.val_set[i][0] for i in range(600)])
    batches = iter(images.split(200))

    def sample(count: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return next(batches)[:count]

    metrics = GenerativeMetrics(
        features="stacked_mnist", num_samples=600, batch_size=200, floor=False, mode_reference="uniform"
    )
    results = metrics.evaluate(sample, reference=[images[:100]])
    covered, kl = modes_and_kl(read_modes(images, reader))
    assert covered > 400  # 600 images of ~1,000 equally likely modes
    assert results["modes_covered"] == covered
    assert results["class_kl"] == pytest.approx(kl, rel=1e-6)
    with pytest.raises(ValueError, match="mode_reference"):
        GenerativeMetrics(mode_reference="labels")
