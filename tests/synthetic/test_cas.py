"""The classification accuracy score (CAS): a classifier trained on real, synthetic or both
sets, scored on held-out real images (docs/augmentation.md)."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.synthetic import ClassifierRecipe, SyntheticDataError, classification_accuracy_scores
from tests.synthetic.conftest import blobs

torch.set_num_threads(1)


RECIPE = ClassifierRecipe(steps=40, batch_size=32, lr=3e-3)


def test_cas_is_high_for_right_labels_and_chance_for_wrong_ones():
    real, test = blobs(40, 0), blobs(200, 1)
    good = classification_accuracy_scores(real, blobs(400, 2), test, RECIPE, seed=0)
    assert good["synthetic"] > 0.9, "a classifier trained on separable synthetic data must beat chance (0.1)"
    assert good["gain"] == pytest.approx(good["real+synthetic"] - good["real"])
    bad = classification_accuracy_scores(real, blobs(400, 2, shuffle_labels=True), test, RECIPE, seed=0)
    assert bad["synthetic"] < 0.3, "the synthetic-only classifier must learn from the synthetic labels"
    assert bad["real"] == good["real"], "real-only does not depend on the synthetic set"


def test_real_plus_synthetic_learns_from_both_sets():
    """Real digits of classes 0-4 and synthetic ones of 5-9: only a classifier that trains on
    both sets can read all ten classes."""
    real, synthetic, test = blobs(100, 0), blobs(100, 2), blobs(200, 1)
    low, high = real[1] < 5, synthetic[1] >= 5
    scores = classification_accuracy_scores(
        (real[0][low], real[1][low]), (synthetic[0][high], synthetic[1][high]), test, RECIPE, seed=0
    )
    assert scores["real"] <= 0.55 and scores["synthetic"] <= 0.55
    assert scores["real+synthetic"] > 0.9
    assert scores["gain"] > 0.35


def test_a_subset_of_training_sets_trains_only_those_with_the_same_scores():
    """Another mixing ratio beside a full run: only the mixed classifier is trained again."""
    real, synthetic, test = blobs(40, 0), blobs(200, 2, shuffle_labels=True), blobs(200, 1)
    full = classification_accuracy_scores(real, synthetic, test, RECIPE, seed=3)
    mixed = classification_accuracy_scores(real, synthetic, test, RECIPE, seed=3, training_sets=("real+synthetic",))
    assert mixed == {"real+synthetic": full["real+synthetic"]}  # no gain without the real-only score
    with pytest.raises(ValueError, match=r"Unknown training set\(s\) \['fake'\]"):
        classification_accuracy_scores(real, synthetic, test, RECIPE, training_sets=("real", "fake"))


def test_synthetic_images_must_match_the_real_shape():
    real = blobs(20, 0)
    small = (torch.zeros(20, 1, 16, 16), torch.zeros(20, dtype=torch.long))
    with pytest.raises(SyntheticDataError, match="same image_size"):
        classification_accuracy_scores(real, small, real, RECIPE)
