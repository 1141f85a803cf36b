"""GenerativeMetrics, the metric suite: FID, precision/recall and mode coverage on real digits
(against the closed form where there is one), the cached reference, actionable configuration
errors, and the metrics logged during fit (in fp32 under mixed precision). Under DDP:
test_suite_ddp.py."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from gan_lightning.metrics import (
    GenerativeMetrics,
)
from gan_lightning.metrics import functional as MF
from gan_lightning.metrics.suite import canonical_order
from gan_lightning.mnist import MNISTFeatures
from tests.conftest import TinyData, tiny_gan, tiny_trainer


def from_tensor(images: torch.Tensor):
    """A ``sample(n, generator)`` function that hands out ``images`` in order."""
    position = 0

    def sample(num: int, generator: torch.Generator) -> torch.Tensor:
        nonlocal position
        batch = images[position : position + num]
        position += num
        return batch

    return sample


def test_canonical_order_is_independent_of_input_order() -> None:
    rows = torch.randn(50, 4, generator=torch.Generator().manual_seed(1))
    shuffled = rows[torch.randperm(50, generator=torch.Generator().manual_seed(2))]
    assert torch.equal(rows[canonical_order(rows)], shuffled[canonical_order(shuffled)])


def test_fid_of_a_set_against_itself_is_zero(mnist_split) -> None:
    _, _, images, _ = mnist_split
    metrics = GenerativeMetrics(num_samples=300, floor=False, kid=True, precision_recall=True)
    results = metrics.evaluate(from_tensor(images[:300]), reference=[images[:150], images[150:300]])
    assert abs(results["fid"]) < 1e-3
    assert results["precision"] == results["recall"] == 1.0
    assert results["modes_covered"] == 10 and results["class_kl"] == pytest.approx(0.0, abs=1e-9)
    assert results["kid"] < 0.0  # unbiased MMD² of a set against itself is slightly negative


def test_real_vs_real_is_small_and_real_vs_noise_is_large(mnist_split) -> None:
    train, _, held_out, _ = mnist_split
    metrics = GenerativeMetrics(num_samples=500, precision_recall=True)
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    results = metrics.evaluate(from_tensor(noise), reference=[held_out], floor=[train[:250], train[250:600]])
    assert 0 < results["fid_floor"] < results["fid"] / 20
    assert results["precision_floor"] > 0.8 and results["precision"] < 0.05
    assert results["modes_covered_floor"] == 10 and results["modes_covered"] < 10
    assert results["class_kl_floor"] < 0.1 < results["class_kl"]
    assert metrics.counts() == {"reference": 500, "floor": 500}  # fakes are reset after each evaluation


def test_mode_counter_sees_a_collapsed_generator(mnist_split) -> None:
    _, _, held_out, labels = mnist_split
    threes_and_sevens = held_out[(labels == 3) | (labels == 7)][:100]
    strict = GenerativeMetrics(num_samples=100, floor=False, mode_min_count=5)
    results = strict.evaluate(from_tensor(threes_and_sevens), reference=[held_out])
    assert results["modes_covered"] == 2
    assert results["class_kl"] > math.log(5) - 0.3  # ≈ log 5 for 2 of 10 balanced classes
    # with the Stacked-MNIST count (1 sample), the classifier's few mistakes show up as modes
    lenient = GenerativeMetrics(num_samples=100, floor=False).evaluate(
        from_tensor(threes_and_sevens), reference=[held_out]
    )
    assert lenient["modes_covered"] >= 2


def test_streaming_fid_equals_the_closed_form(mnist_split) -> None:
    train, _, held_out, _ = mnist_split
    metrics = GenerativeMetrics(num_samples=400, floor=False, mode_coverage=False)
    result = metrics.evaluate(from_tensor(train[:400]), reference=[held_out[:200], held_out[200:]])["fid"]
    network = MNISTFeatures()
    expected = MF.frechet_distance(network.extract(held_out)[0], network.extract(train[:400])[0])
    assert result == pytest.approx(expected, rel=1e-4)


def test_reference_is_cached_and_fakes_are_reset(mnist_split) -> None:
    train, _, held_out, _ = mnist_split
    metrics = GenerativeMetrics(num_samples=200, floor=False)
    first = metrics.evaluate(from_tensor(train[:200]), reference=[held_out[:300]])
    second = metrics.evaluate(from_tensor(train[:200]), reference=[held_out[300:]])  # ignored: cached
    assert second["fid"] == pytest.approx(first["fid"], rel=1e-9)
    assert metrics.counts()["reference"] == 300


def test_bad_configuration_raises_actionable_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown feature network"):
        GenerativeMetrics(features="vgg")
    with pytest.raises(ValueError, match="classifier head"):
        GenerativeMetrics(features=torch.nn.Flatten(), mode_coverage=True)
    with pytest.raises(ValueError, match="at least 2"):
        GenerativeMetrics(num_samples=1)
    with pytest.raises(FileNotFoundError, match="train_mnist_classifier") as missing:
        MNISTFeatures(tmp_path / "missing.pt")
    from gan_lightning.errors import GanLightningError

    assert isinstance(missing.value, GanLightningError), "the CLI must print it as one line"


def test_any_module_can_be_the_feature_network() -> None:
    metrics = GenerativeMetrics(features=torch.nn.Flatten(), num_samples=64, mode_coverage=False, floor=False)
    images = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    assert abs(metrics.evaluate(from_tensor(images), reference=[images])["fid"]) < 1e-6


# ---------------------------------------------------------------- during fit
class UnseededData(TinyData):
    """A training loader that shuffles with the global RNG, as many users' loaders do."""

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(self.dataset, batch_size=self.batch_size, shuffle=True, drop_last=True)


def test_fit_logs_fid_floor_and_mode_coverage_and_caches_the_reference(tmp_path: Path) -> None:
    metrics = GenerativeMetrics(num_samples=48, batch_size=32, k=2, precision_recall=True)
    gan = tiny_gan(metrics=metrics)
    trainer = tiny_trainer(tmp_path, max_steps=4, val_check_interval=2, num_sanity_val_steps=1, limit_val_batches=2)
    seen: list[dict[str, float]] = []
    original = gan.on_validation_epoch_end

    def record() -> None:
        original()
        seen.append({k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")})

    gan.on_validation_epoch_end = record
    trainer.fit(gan, datamodule=UnseededData())
    metrics_epochs = [entry for entry in seen if "val/fid" in entry]
    assert len(metrics_epochs) == 2  # the sanity check computes nothing
    assert metrics.counts()["reference"] == 32  # 2 batches of 16, once, not once per validation
    last = metrics_epochs[-1]
    for key in ("val/fid", "val/fid_floor", "val/modes_covered", "val/class_kl", "val/precision", "val/recall"):
        assert math.isfinite(last[key]), key
    assert last["val/fid_floor"] < last["val/fid"]
    state = torch.random.get_rng_state()
    metrics.floor_ready = False  # as after a resume: the floor is drawn again
    metrics.compute(gan)
    assert torch.equal(torch.random.get_rng_state(), state)  # training randomness untouched
    assert not any(key.startswith("metrics.") for key in gan.state_dict())  # no weights in checkpoints


def test_metrics_under_mixed_precision_are_computed_in_fp32(tmp_path: Path) -> None:
    metrics = GenerativeMetrics(num_samples=32, batch_size=32, floor=False)
    gan = tiny_gan(metrics=metrics)
    trainer = tiny_trainer(tmp_path, max_steps=2, val_check_interval=2, precision="bf16-mixed", limit_val_batches=1)
    trainer.fit(gan, datamodule=TinyData())
    assert torch.isfinite(trainer.callback_metrics["val/fid"])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        features, logits = metrics.extract(torch.zeros(2, 1, 8, 8, dtype=torch.bfloat16))
    assert features.dtype == logits.dtype == torch.float32
    assert torch.allclose(features, metrics.extract(torch.zeros(2, 1, 8, 8))[0])
