"""The CAS classifier: mixed real/synthetic batches and a seeded training that leaves the global RNG alone."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.synthetic import (
    ClassifierRecipe,
    mixed_batches,
    train_classifier,
)
from tests.synthetic.conftest import blobs


def test_mixed_batches_take_the_stated_counts_and_use_every_image():
    real_count, synthetic_count = ClassifierRecipe(batch_size=64, real_fraction=0.5).mixed_counts()
    assert (real_count, synthetic_count) == (32, 32)
    assert ClassifierRecipe(batch_size=64, real_fraction=0.25).mixed_counts() == (16, 48)
    batches = list(mixed_batches([50, 300], [real_count, synthetic_count], steps=10, seed=0))
    assert all(len(real) == 32 and len(synthetic) == 32 for real, synthetic in batches)
    real_seen = torch.cat([real for real, _ in batches])
    synthetic_seen = torch.cat([synthetic for _, synthetic in batches])
    assert set(real_seen.tolist()) == set(range(50)) and set(synthetic_seen.tolist()) == set(range(300))
    # every image once before any image twice
    assert len(set(synthetic_seen[:300].tolist())) == 300 and len(set(real_seen[:50].tolist())) == 50
    with pytest.raises(ValueError, match="real_fraction"):
        ClassifierRecipe(real_fraction=1.0)


def test_classifier_is_deterministic_and_leaves_the_global_rng_alone():
    data = blobs(64, 0)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=7)
    other = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=8)
    for a, b in zip(first.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters(), strict=True))
