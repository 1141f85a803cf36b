"""Text-to-image networks (Reed et al. 2016): the text encoder reads word order and ignores padding;
the matching discriminator's heads score (image, text) pairs; the text compression as the authors' code."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.networks import MatchingDiscriminator, TextEncoder, TextToImageGenerator

SIZE = 16


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_text_encoder_ignores_padding_and_reads_word_order(pooling: str):
    torch.manual_seed(0)
    encoder = TextEncoder(10, word_dim=4, hidden_dim=4, embedding_dim=4, pooling=pooling)
    ids = torch.tensor([[2, 3, 4, 0, 0], [2, 3, 4, 5, 6]])
    short = encoder(ids[:1, :3], torch.tensor([3]))
    torch.testing.assert_close(encoder(ids, torch.tensor([3, 5]))[:1], short)  # padding changes nothing
    assert not torch.allclose(encoder(torch.tensor([[4, 3, 2]]), torch.tensor([3])), short)
    with pytest.raises(ValueError, match="vocab_size=10"):
        encoder(torch.tensor([[12]]), torch.tensor([1]))


@pytest.mark.parametrize("head", ["concat", "projection"])
def test_both_discriminator_heads_score_the_pair_and_share_the_image_pass(head: str):
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4, head=head, norm="none")
    images, text = torch.rand(3, 1, SIZE, SIZE) * 2 - 1, torch.randn(3, 8)
    logits = discriminator(images, text)
    assert logits.shape == (3,)
    torch.testing.assert_close(discriminator.judge(discriminator.image_features(images), text), logits)
    assert not torch.allclose(discriminator(images, text.flip(0)), logits), "the text changes nothing"
    with pytest.raises(ValueError, match="head must be"):
        MatchingDiscriminator(8, head="sum")


def test_the_discriminators_text_compression_has_reeds_batch_norm_and_the_generators_has_none():
    """reedscot/icml2016 main_cls_int.lua: fcD = Linear-BatchNormalization-LeakyReLU(0.2),
    fcG = Linear-LeakyReLU(0.2)."""
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4).train()
    linear, norm = discriminator.condition[0], discriminator.condition[1]
    assert isinstance(norm, nn.BatchNorm1d)
    text = torch.randn(6, 8) * 3 + 1
    expected = F.leaky_relu(F.batch_norm(linear(text), None, None, norm.weight, norm.bias, training=True), 0.2)
    torch.testing.assert_close(discriminator.condition(text), expected)
    generator = TextToImageGenerator(8, 8, condition_dim=4, image_size=SIZE, base_width=4)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in generator.condition.modules())
    unnormalised = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4, norm="none")
    assert not any(isinstance(m, nn.BatchNorm1d) for m in unnormalised.condition.modules())
