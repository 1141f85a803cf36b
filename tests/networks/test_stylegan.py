"""The family's networks: ResNet (SNGAN), conditional blocks, PacGAN packing, minibatch
stddev and the compact StyleGAN2 generator."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.networks import (
    ConditionalBatchNorm2d,
    LabelConcatGenerator,
    MinibatchStdDev,
    MLPGenerator,
    PackedDiscriminator,
    ResNetDiscriminator,
    ResNetGenerator,
    StyleGAN2Generator,
)
from gan_lightning.networks.stylegan import ModulatedConv2d


# ---------------------------------------------------------------- minibatch stddev
def test_minibatch_std_appends_the_group_standard_deviation():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 2.0], [7.0, 6.0]])  # groups of 2: rows (0, 2) and (1, 3)
    out = MinibatchStdDev(group_size=2, eps=0.0)(x)
    assert out.shape == (4, 3)
    # group {0, 2}: stds (2, 0) → mean 1; group {1, 3}: stds (2, 0) → mean 1
    assert torch.allclose(out[:, 2], torch.ones(4))
    assert torch.equal(out[:, :2], x)


def test_minibatch_std_is_zero_for_identical_samples_and_positive_for_varied_ones():
    layer = MinibatchStdDev(group_size=4, eps=0.0)
    same = layer(torch.ones(8, 3, 4, 4))
    varied = layer(torch.randn(8, 3, 4, 4))
    assert same.shape == (8, 4, 4, 4)
    assert same[:, 3].abs().max() == 0 and varied[:, 3].min() > 0.5
    with pytest.raises(ValueError, match="divisible"):
        layer(torch.randn(6, 3, 4, 4))


# ---------------------------------------------------------------- PacGAN
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


# ---------------------------------------------------------------- ResNet / conditional
@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_resnet_pair_shapes(size, channels):
    generator = ResNetGenerator(latent_dim=8, image_size=size, channels=channels, width=8)
    discriminator = ResNetDiscriminator(image_size=size, channels=channels, width=8)
    images = generator(torch.randn(4, 8))
    assert images.shape == (4, channels, size, size) and images.abs().max() <= 1
    assert discriminator(images).shape == (4,)
    spectral = [m for m in discriminator.modules() if hasattr(m, "parametrizations")]
    assert spectral and all("weight" in m.parametrizations for m in spectral)


def test_resnet_discriminator_explains_a_shape_mismatch():
    with pytest.raises(ValueError, match="channels/image_size"):
        ResNetDiscriminator(image_size=28, channels=1, width=8)(torch.randn(2, 3, 28, 28))


def test_conditional_batch_norm_starts_as_batch_norm_and_depends_on_the_label():
    norm = ConditionalBatchNorm2d(3, num_classes=4)
    x = torch.randn(8, 3, 4, 4)
    plain = nn.BatchNorm2d(3, affine=False)(x)
    assert torch.allclose(norm(x, torch.zeros(8, dtype=torch.long)), plain, atol=1e-6)
    with torch.no_grad():
        norm.scale.weight[1] = 2.0
    assert torch.allclose(norm(x, torch.ones(8, dtype=torch.long)), 2 * plain, atol=1e-5)


def test_conditional_resnet_uses_labels_in_generator_and_projection_discriminator():
    generator = ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=3)
    discriminator = ResNetDiscriminator(image_size=8, channels=1, width=8, num_classes=3)
    with torch.no_grad():
        for norm in (m for m in generator.modules() if isinstance(m, ConditionalBatchNorm2d)):
            norm.scale.weight.normal_(1.0, 0.5)
    z = torch.randn(4, 8)
    generator.eval()
    zeros, twos = torch.zeros(4, dtype=torch.long), torch.full((4,), 2)
    assert not torch.allclose(generator(z, zeros), generator(z, twos))
    images = torch.randn(4, 1, 8, 8)
    assert not torch.allclose(discriminator(images, zeros), discriminator(images, twos))
    with pytest.raises(ValueError, match="labels"):
        discriminator(images)


def test_label_concat_generator_wraps_any_generator():
    wrapped = LabelConcatGenerator(MLPGenerator(data_shape=[2], latent_dim=12, hidden_dims=[8]), 5, embedding_dim=4)
    assert wrapped.latent_dim == 8 and wrapped.num_classes == 5
    assert wrapped(torch.randn(3, 8), torch.tensor([0, 1, 4])).shape == (3, 2)
    with pytest.raises(ValueError, match="exceed embedding_dim"):
        LabelConcatGenerator(MLPGenerator(data_shape=[2], latent_dim=4), 5, embedding_dim=4)


# ---------------------------------------------------------------- StyleGAN2
def tiny_stylegan(**overrides) -> StyleGAN2Generator:
    kwargs = {"latent_dim": 8, "image_size": 8, "channels": 1, "width": 8, "w_dim": 8, "mapping_layers": 2}
    return StyleGAN2Generator(**(kwargs | overrides))


def test_stylegan_generator_shapes_and_layers():
    generator = tiny_stylegan(image_size=28)
    assert generator.latent_dim == 8 and generator.num_ws == 6  # 7 → 14 → 28: 2 doublings
    images = generator(torch.randn(3, 8))
    assert images.shape == (3, 1, 28, 28) and images.abs().max() <= 1


def test_demodulation_makes_the_output_independent_of_the_style_scale():
    conv = ModulatedConv2d(4, 5, 3, w_dim=6)
    x, w = torch.randn(2, 4, 8, 8), torch.randn(2, 6)
    before = conv(x, w)
    with torch.no_grad():
        conv.affine.weight.mul_(3.0)
        conv.affine.bias.mul_(3.0)  # every style s_i scaled by 3
    assert torch.allclose(conv(x, w), before, atol=1e-4)
    assert before.std().item() == pytest.approx(1.0, rel=0.3)  # unit variance in, about unit out


def test_style_mixing_uses_two_latents_in_training_only():
    torch.manual_seed(0)
    mixing = tiny_stylegan(mixing_prob=1.0).train()
    ws = mixing.styles(torch.randn(4, 8))
    assert not torch.allclose(ws[:, 0], ws[:, -1])  # the crossover splits the layers
    assert torch.allclose(ws[:, 0], ws[:, 1]) or torch.allclose(ws[:, -2], ws[:, -1])
    plain = tiny_stylegan(mixing_prob=0.0).train().styles(torch.randn(4, 8))
    assert torch.allclose(plain, plain[:, :1].expand_as(plain))


def test_truncation_pulls_styles_to_the_running_average_at_sampling_time():
    generator = tiny_stylegan(mixing_prob=0.0)
    generator.train()(torch.randn(16, 8))
    assert generator.w_avg.abs().sum() > 0  # tracked while training
    w_avg = generator.w_avg.clone()
    generator.eval()
    generator.truncation_psi = 0.0
    ws = generator.styles(torch.randn(4, 8))
    assert torch.allclose(ws, w_avg.expand_as(ws))
    assert torch.equal(generator.w_avg, w_avg)  # not updated in eval
    images = generator(torch.randn(4, 8))  # noise strengths start at 0: identical images
    assert torch.allclose(images[0], images[1], atol=1e-6)
    generator.truncation_psi = 1.0
    assert not torch.allclose(generator(torch.randn(2, 8))[0], generator(torch.randn(2, 8))[1])


def test_noise_inputs_add_stochastic_detail_when_their_strength_is_learned():
    generator = tiny_stylegan(mixing_prob=0.0).eval()
    z = torch.randn(2, 8)
    assert torch.allclose(generator(z), generator(z))
    with torch.no_grad():
        generator.convs[0].noise.strength.fill_(1.0)
    assert not torch.allclose(generator(z), generator(z))
