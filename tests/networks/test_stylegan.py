"""The compact StyleGAN2 generator (Karras et al. 2020): shapes and layers, demodulation, style
mixing, truncation, and learned noise inputs."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import (
    StyleGAN2Generator,
)
from gan_lightning.networks.stylegan import ModulatedConv2d


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
