"""The metric functions on constructed inputs whose values are known: k-NN radii, precision and
recall, class coverage, Inception Score, KID and the Fréchet distance."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.metrics import functional as MF


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
