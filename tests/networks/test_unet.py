"""pix2pix's U-Net (Isola et al. 2017): sizes, every skip connection, the decoder's view of the
encoder, dropout as the noise, and instance norm at batch size one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.networks import (
    UNetGenerator,
)


def tiny_unet(image_size: int = 32, **kwargs) -> UNetGenerator:
    kwargs = {"in_channels": 1, "out_channels": 1, "base_width": 4, "max_width": 16, **kwargs}
    return UNetGenerator(image_size=image_size, **kwargs)


@pytest.mark.parametrize(("size", "c_in", "c_out"), [(8, 1, 1), (16, 3, 1), (32, 1, 3), (64, 3, 3)])
def test_unet_maps_an_image_to_an_image_of_the_same_size_in_tanh_range(size: int, c_in: int, c_out: int) -> None:
    out = tiny_unet(size, in_channels=c_in, out_channels=c_out)(torch.randn(2, c_in, size, size) * 3)
    assert out.shape == (2, c_out, size, size)
    assert out.abs().max() <= 1


def test_unet_has_the_papers_size_at_256px() -> None:
    """junyanz/pytorch-CycleGAN-and-pix2pix prints 54.414 M parameters for its unet_256: the same
    layers, less the biases (64 + 512) that we keep on the two encoder convs no norm follows."""
    with torch.device("meta"):
        generator = UNetGenerator(3, 3, 256)
    assert sum(p.numel() for p in generator.parameters()) - (64 + 512) == 54_413_955


@pytest.mark.parametrize(("size", "suggestion"), [(28, 32), (48, 64), (4, 8), (100, 128)])
def test_unet_rejects_sizes_that_are_not_powers_of_two(size: int, suggestion: int) -> None:
    with pytest.raises(ValueError, match=f"use image_size {suggestion}"):
        tiny_unet(size)


def test_unet_rejects_images_of_another_size() -> None:
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 1, 32, 32\)"):
        tiny_unet(32)(torch.randn(1, 1, 16, 16))


def test_unet_decoder_uses_every_skip_connection() -> None:
    generator = tiny_unet(32).eval()
    features = generator.encode(torch.randn(2, 1, 32, 32))
    reference = generator.decode(features)
    for level in range(len(features) - 1):  # every level but the bottleneck is only a skip here
        zeroed = [torch.zeros_like(f) if i == level else f for i, f in enumerate(features)]
        assert not torch.allclose(generator.decode(zeroed), reference), f"skip {level} is not used"


def test_unet_decoder_sees_relu_of_the_encoders_pre_activation_features() -> None:
    """junyanz's UnetSkipConnectionBlock concatenates its input x (before any activation) and
    starts the up path with ReLU: the decoder reads ReLU(e) of each skip, not LeakyReLU(e), and
    ReLU of the bottleneck."""
    torch.manual_seed(0)
    generator = tiny_unet(16).eval()
    encoded: list[torch.Tensor] = []
    decoder_inputs: list[torch.Tensor] = []
    for layer in generator.encoder:  # conv (and norm) output: the last module of each encoder layer
        layer[-1].register_forward_hook(lambda module, inputs, output: encoded.append(output))
    for layer in [*generator.decoder, generator.output]:
        upconv = next(m for m in layer if isinstance(m, nn.ConvTranspose2d))
        upconv.register_forward_pre_hook(lambda module, inputs: decoder_inputs.append(inputs[0]))
    generator(torch.randn(2, 1, 16, 16))
    assert all((e < 0).any() for e in encoded), "pre-activation features have negative values"
    assert torch.equal(decoder_inputs[0], F.relu(encoded[-1]))  # the bottleneck
    for j, joined in enumerate(decoder_inputs[1:], start=1):
        skip = encoded[-1 - j]
        assert torch.equal(joined[:, -skip.shape[1] :], F.relu(skip)), f"skip into decoder layer {j}"


def test_unet_bottleneck_survives_instance_norm_at_batch_size_one() -> None:
    """Normalising a 1×1 map per sample zeroes it: the bottleneck must have no norm."""
    features = tiny_unet(16, norm="instance").train().encode(torch.randn(1, 1, 16, 16))
    assert features[-1].shape[-2:] == (1, 1)
    assert features[-1].abs().sum() > 0


@pytest.mark.parametrize(("size", "dropout_layers"), [(8, 2), (16, 3), (64, 3)])
def test_unet_dropout_sits_in_the_three_innermost_decoder_layers(size: int, dropout_layers: int) -> None:
    generator = tiny_unet(size)
    with_dropout = [any(isinstance(m, nn.Dropout) for m in layer) for layer in generator.decoder]
    assert with_dropout == [True] * dropout_layers + [False] * (len(generator.decoder) - dropout_layers)
    assert not any(isinstance(m, nn.Dropout) for m in generator.output)


def test_unet_dropout_is_the_noise_in_train_mode_and_off_in_eval() -> None:
    x = torch.randn(2, 1, 32, 32)
    generator = tiny_unet(32).train()
    assert not torch.equal(generator(x), generator(x))
    generator.eval()
    assert torch.equal(generator(x), generator(x))
    deterministic = tiny_unet(32, dropout=0.0).train()
    assert torch.equal(deterministic(x), deterministic(x))
