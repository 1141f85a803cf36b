"""Conditioning blocks: conditional batch norm starts as batch norm and depends on the label;
label concatenation wraps any generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.networks import (
    ConditionalBatchNorm2d,
    LabelConcatGenerator,
    MLPGenerator,
)


def test_conditional_batch_norm_starts_as_batch_norm_and_depends_on_the_label():
    norm = ConditionalBatchNorm2d(3, num_classes=4)
    x = torch.randn(8, 3, 4, 4)
    plain = nn.BatchNorm2d(3, affine=False)(x)
    assert torch.allclose(norm(x, torch.zeros(8, dtype=torch.long)), plain, atol=1e-6)
    with torch.no_grad():
        norm.scale.weight[1] = 2.0
    assert torch.allclose(norm(x, torch.ones(8, dtype=torch.long)), 2 * plain, atol=1e-5)


def test_label_concat_generator_wraps_any_generator():
    wrapped = LabelConcatGenerator(MLPGenerator(data_shape=[2], latent_dim=12, hidden_dims=[8]), 5, embedding_dim=4)
    assert wrapped.latent_dim == 8 and wrapped.num_classes == 5
    assert wrapped(torch.randn(3, 8), torch.tensor([0, 1, 4])).shape == (3, 2)
    with pytest.raises(ValueError, match="exceed embedding_dim"):
        LabelConcatGenerator(MLPGenerator(data_shape=[2], latent_dim=4), 5, embedding_dim=4)
