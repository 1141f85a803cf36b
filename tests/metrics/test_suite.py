"""Sample-quality metrics: exact values on constructed inputs, sanity on real digits, the
offline error path, and the metrics logged during fit."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from lightning.pytorch import LightningModule

from gan_lightning.metrics import (
    FEATURE_NETWORKS,
    ClipScores,
    FeatureNetwork,
    GenerativeMetrics,
    InceptionFeatures,
    TranslationScores,
    build_feature_network,
)
from gan_lightning.metrics import functional as MF
from gan_lightning.metrics.features import feature_network_class
from gan_lightning.metrics.suite import canonical_order
from gan_lightning.mnist import MNISTFeatures
from tests.conftest import TinyData, tiny_gan, tiny_trainer


@pytest.fixture(scope="module")
def mnist_split() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """MNIST-5k as the GAN configs split it: (train images, train labels, held-out images, labels)."""
    from gan_lightning.mnist import MNIST5kDataModule

    data = MNIST5kDataModule(val_size=500)
    data.setup()
    return (*data.train_set.tensors, *data.val_set.tensors)


def from_tensor(images: torch.Tensor):
    """A ``sample(n, generator)`` function that hands out ``images`` in order."""
    position = 0

    def sample(num: int, generator: torch.Generator) -> torch.Tensor:
        nonlocal position
        batch = images[position : position + num]
        position += num
        return batch

    return sample


# ---------------------------------------------------------------- functional, constructed inputs
def test_knn_radii_on_a_line() -> None:
    points = torch.arange(6.0).unsqueeze(1)  # 0, 1, ..., 5
    assert torch.equal(MF.knn_radii(points, k=1), torch.ones(6))
    assert torch.equal(MF.knn_radii(points, k=2), torch.tensor([2.0, 1.0, 1.0, 1.0, 1.0, 2.0]))


def test_precision_recall_of_a_generator_covering_one_of_two_clusters() -> None:
    generator = torch.Generator().manual_seed(0)
    cluster_a = torch.randn(100, 4, generator=generator)
    cluster_b = torch.randn(100, 4, generator=generator) + 50.0
    real = torch.cat([cluster_a, cluster_b])
    precision, recall = MF.precision_recall(real, cluster_a.clone(), k=3)
    assert precision == 1.0  # every fake is a real point: inside the real manifold
    assert recall == 0.5  # only cluster A's reals are inside the fake manifold
    precision, recall = MF.precision_recall(real, cluster_a + 1000.0, k=3)
    assert (precision, recall) == (0.0, 0.0)


def test_class_coverage_counts_classes_and_measures_kl() -> None:
    uniform = torch.full((10,), 50)
    assert MF.class_coverage(uniform, uniform) == (10, 0.0)
    collapsed = torch.tensor([500, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    covered, kl = MF.class_coverage(collapsed, uniform)
    assert covered == 1
    assert kl == pytest.approx(math.log(10))
    two = torch.tensor([250, 250, 0, 0, 0, 0, 0, 0, 0, 0])
    assert MF.class_coverage(two, uniform) == (2, pytest.approx(math.log(5)))
    assert MF.class_coverage(torch.tensor([1, 3, 0]), uniform[:3], min_count=2)[0] == 1
    with pytest.raises(ValueError, match="same length"):
        MF.class_coverage(uniform, uniform[:5])


def test_inception_score_bounds() -> None:
    one_hot = torch.eye(10).repeat(20, 1)  # confident and balanced: IS = number of classes
    assert MF.inception_score(one_hot, splits=5)[0] == pytest.approx(10.0, rel=1e-6)
    same_class = torch.zeros(200, 10)
    same_class[:, 3] = 1.0  # confident but collapsed: IS = 1
    assert MF.inception_score(same_class, splits=5)[0] == pytest.approx(1.0, abs=1e-6)


def test_inception_score_uses_exactly_the_splits_asked_for() -> None:
    """12 confident images of 12 different classes: a part of k images scores IS = k. Five
    parts are 3, 3, 2, 2, 2 images (mean 2.4); ``torch.chunk`` made four parts of 3 (mean 3)."""
    mean, std = MF.inception_score(torch.eye(12), splits=5)
    assert mean == pytest.approx(2.4, rel=1e-6)
    assert std == pytest.approx(torch.tensor([3.0, 3, 2, 2, 2]).std().item(), rel=1e-6)
    with pytest.raises(ValueError, match="splits must be >= 1"):
        MF.inception_score(torch.eye(12), splits=0)


def test_kid_is_near_zero_for_one_distribution_large_for_two_and_deterministic() -> None:
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(400, 8, generator=generator), torch.randn(400, 8, generator=generator)
    same, _ = MF.kernel_inception_distance(a, b, subsets=20, subset_size=200)
    shifted, _ = MF.kernel_inception_distance(a, b + 2.0, subsets=20, subset_size=200)
    assert abs(same) < 0.05 < 1.0 < shifted
    assert MF.kernel_inception_distance(a, b, subsets=5, subset_size=100) == MF.kernel_inception_distance(
        a, b, subsets=5, subset_size=100
    )


def test_frechet_distance_of_known_gaussians() -> None:
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(20000, 2, generator=generator, dtype=torch.float64)
    b = torch.randn(20000, 2, generator=generator, dtype=torch.float64) * 2 + torch.tensor([3.0, 0.0])
    # ‖μ‖² + Tr(I + 4I − 2·2I) = 9 + 2
    assert MF.frechet_distance(a, b) == pytest.approx(11.0, rel=0.03)
    assert MF.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_canonical_order_is_independent_of_input_order() -> None:
    rows = torch.randn(50, 4, generator=torch.Generator().manual_seed(1))
    shuffled = rows[torch.randperm(50, generator=torch.Generator().manual_seed(2))]
    assert torch.equal(rows[canonical_order(rows)], shuffled[canonical_order(shuffled)])


# ---------------------------------------------------------------- MNIST features on real digits
def test_mnist_classifier_recognises_held_out_digits(mnist_split) -> None:
    _, _, images, labels = mnist_split
    features, logits = MNISTFeatures().extract(images[:200])
    assert features.shape == (200, MNISTFeatures.num_features)
    assert (logits.argmax(1) == labels[:200]).float().mean() > 0.95
    # 8×8 and 32-px inputs are resized, not rejected
    small = torch.nn.functional.interpolate(images[:4], size=8, mode="area")
    assert MNISTFeatures(digit_box=20).extract(small)[0].shape == (4, 64)
    assert MNISTFeatures().extract(torch.zeros(2, 3, 32, 32))[0].shape == (2, 64)
    with pytest.raises(ValueError, match="digit_box"):
        MNISTFeatures(digit_box=40)


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


# ---------------------------------------------------------------- offline Inception
def test_inception_without_weights_fails_at_construction_with_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FileNotFoundError, match=r"(?s)wget https://.*weights-inception.*weights_path"):
        InceptionFeatures(weights_path=tmp_path / "missing.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    with pytest.raises(FileNotFoundError, match="empty-hub"):
        GenerativeMetrics(features="inception", mode_coverage=False)
    with pytest.raises(FileNotFoundError):  # a GAN configured with it never starts training
        tiny_gan(metrics=GenerativeMetrics(features="inception", mode_coverage=False))


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


@pytest.mark.slow
def test_inception_features_load_a_local_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local file is all the Inception path needs (random weights stand in for the real ones)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with monkeypatch.context() as patch:
        patch.setattr(torch, "load", lambda *args, **kwargs: None)
        patch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
        random_network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], "unused.pth")
    weights = tmp_path / "weights-inception.pth"
    torch.save(random_network.state_dict(), weights)
    metrics = GenerativeMetrics(features="inception", weights_path=str(weights), mode_coverage=False, floor=False)
    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    features, logits = metrics.extract(images)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert metrics.feature_name == "inception" and not any(True for _ in metrics.parameters())


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


# ---------------------------------------------------------------------- feature networks by name, scores passed in
def test_feature_networks_by_name_are_imported_through_the_table():
    for name in FEATURE_NETWORKS:
        network_class = feature_network_class(name)
        assert issubclass(network_class, FeatureNetwork) and network_class.name == name
    assert isinstance(build_feature_network("mnist"), MNISTFeatures)
    with pytest.raises(ValueError, match=r"Unknown feature network 'vgg'.*'inception', 'mnist', 'stacked_mnist'"):
        build_feature_network("vgg")


def test_clip_scores_check_the_name_at_once_and_build_the_network_on_first_use():
    """Building the classifier draws its random initialisation: at construction (config time)
    that would move the training stream, so it waits for validation's forked stream."""
    state = torch.get_rng_state()
    metric = ClipScores(num_clips=4)
    assert torch.equal(torch.get_rng_state(), state) and metric.network is None
    assert not list(metric.state_dict())  # an instrument, not model state
    with pytest.raises(ValueError, match="Unknown feature network"):
        ClipScores(features="vgg")


def test_translation_scores_without_a_data_module_leave_out_the_mean_target_baseline():
    batch = {"source": torch.zeros(2, 1, 4, 4), "target": torch.ones(2, 1, 4, 4)}
    scores = TranslationScores().update(LightningModule(), batch, {"output": torch.full((2, 1, 4, 4), 0.5)})
    assert {name: float(value) for name, value in scores.items()} == {"l1": 0.5, "l1_identity": 1.0}
