"""PacGAN (Lin et al. 2018): the discriminator sees packs of consecutive samples."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.networks import (
    PackedDiscriminator,
)


class _Recorder(nn.Module):
    def forward(self, x):
        self.seen = x
        return x.sum(dim=1)


def test_packed_discriminator_concatenates_consecutive_samples():
    inner = _Recorder()
    packed = PackedDiscriminator(inner, pack=2)
    x = torch.arange(12.0).view(6, 2)
    scores = packed(x)
    assert inner.seen.shape == (3, 4)
    assert torch.equal(inner.seen[1], torch.tensor([4.0, 5.0, 6.0, 7.0]))  # samples 2 and 3
    assert scores.shape == (3,)
    images = torch.randn(4, 1, 8, 8)
    PackedDiscriminator(inner, pack=4)(images)
    assert inner.seen.shape == (1, 4, 8, 8)
    with pytest.raises(ValueError, match="multiple of 4"):
        PackedDiscriminator(inner, pack=4)(torch.randn(6, 2))
