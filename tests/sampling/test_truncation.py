"""The truncation trick: every entry inside the threshold, reproducible, untruncated draws
unchanged bit for bit, and the GAN's sampling routed through it."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.sampling import truncated_normal, truncated_uniform
from tests.conftest import tiny_gan


def test_every_entry_lies_within_the_threshold_and_the_draw_is_reproducible() -> None:
    noise = truncated_normal((4000, 16), 0.5, generator=torch.Generator().manual_seed(0))
    assert noise.abs().max() <= 0.5
    assert noise.std() < 0.35  # a N(0,1) cut at ±0.5 has sd ≈ 0.28, far below 1
    again = truncated_normal((4000, 16), 0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noise, again)


def test_entries_inside_the_threshold_are_kept_as_drawn() -> None:
    plain = torch.randn(500, 8, generator=torch.Generator().manual_seed(3))
    truncated = truncated_normal((500, 8), 1.0, generator=torch.Generator().manual_seed(3))
    inside = plain.abs() <= 1.0
    assert torch.equal(truncated[inside], plain[inside]) and not torch.equal(truncated, plain)


def test_no_threshold_is_the_plain_draw_bit_for_bit() -> None:
    assert torch.equal(
        truncated_normal((7, 5), None, generator=torch.Generator().manual_seed(1)),
        torch.randn(7, 5, generator=torch.Generator().manual_seed(1)),
    )
    uniform = truncated_uniform((300, 4), 0.25, generator=torch.Generator().manual_seed(1))
    assert uniform.abs().max() <= 0.25 and uniform.abs().max() > 0.2


@pytest.mark.parametrize("threshold", [0.0, -1.0, float("nan"), float("inf")])
def test_a_threshold_that_is_not_a_positive_number_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        truncated_normal((2, 2), threshold)


def test_the_gan_samples_from_truncated_noise_and_untruncated_is_unchanged() -> None:
    gan = tiny_gan()
    plain = gan.sample_latent(64, torch.Generator().manual_seed(0))
    assert torch.equal(plain, torch.randn(64, gan.latent_dim, generator=torch.Generator().manual_seed(0)))
    assert gan.sample_latent(64, torch.Generator().manual_seed(0), truncation=0.3).abs().max() <= 0.3
    loose = gan.sample(16, generator=torch.Generator().manual_seed(0))
    tight = gan.sample(16, generator=torch.Generator().manual_seed(0), truncation=0.3)
    assert loose.shape == tight.shape and not torch.equal(loose, tight)
