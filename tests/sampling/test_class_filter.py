"""keep_classified: samples the GAN's own classifier reads as another class are drawn again."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.sampling import RejectionError, keep_classified


def reader(images: Tensor) -> Tensor:
    """Logits that read each one-pixel 'image' as the class stored in it."""
    return F.one_hot(images.long().flatten(), 10).float()


def sloppy_generator(wrong_share: float, seed: int = 0, never: int | None = None):
    """Draws the asked class, or (with probability ``wrong_share``, always for ``never``) the next one."""
    generator = torch.Generator().manual_seed(seed)

    def generate(labels: Tensor) -> Tensor:
        wrong = torch.rand(len(labels), generator=generator) < wrong_share
        if never is not None:
            wrong |= labels == never
        return torch.where(wrong, (labels + 1) % 10, labels).float().unsqueeze(1)

    return generate


def test_every_kept_sample_reads_as_its_label_in_the_labels_order():
    labels = torch.arange(10).repeat(20)
    plain = sloppy_generator(0.3)(labels)
    assert (reader(plain).argmax(1) != labels).float().mean() > 0.15  # the generator does draw wrong classes
    kept = keep_classified(sloppy_generator(0.3), reader, labels)
    assert torch.equal(reader(kept.samples).argmax(1), labels)
    assert len(kept.samples) == len(labels)
    assert kept.drawn > len(labels) and 0.6 < kept.acceptance < 0.8  # ≈ 1 − 0.3 of the draws pass


def test_a_perfect_generator_draws_each_sample_once():
    labels = torch.arange(10)
    kept = keep_classified(sloppy_generator(0.0), reader, labels)
    assert kept.drawn == 10 and torch.equal(kept.samples.flatten().long(), labels)


def test_a_class_the_generator_never_draws_fails_clearly():
    with pytest.raises(RejectionError, match=r"class\(es\) \[7\] were still read as another class") as error:
        keep_classified(sloppy_generator(0.0, never=7), reader, torch.arange(10).repeat(3), max_rounds=4)
    assert error.value.accepted == 27 and error.value.drawn == 30 + 4 * 3
    with pytest.raises(ValueError, match="max_rounds must be >= 1"):
        keep_classified(sloppy_generator(0.0), reader, torch.arange(3), max_rounds=0)
