"""Image-to-image networks (pix2pix, CycleGAN, SRGAN), the image pool and restoration metrics."""

from __future__ import annotations

import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.metrics import PerceptualLoss, bicubic_upscale, psnr, ssim
from gan_lightning.networks import (
    PatchDiscriminator,
    ResNetTranslator,
    SRGANDiscriminator,
    SRResNet,
    UNetGenerator,
    patch_receptive_field,
)
from gan_lightning.networks.layers import normalization_layer
from gan_lightning.networks.patchgan import choose_num_layers
from gan_lightning.networks.translator import ResidualBlock
from gan_lightning.training import ImagePool


def tiny_unet(image_size: int = 32, **kwargs) -> UNetGenerator:
    kwargs = {"in_channels": 1, "out_channels": 1, "base_width": 4, "max_width": 16, **kwargs}
    return UNetGenerator(image_size=image_size, **kwargs)


# --- U-Net (pix2pix generator) -------------------------------------------------------------


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


# --- PatchGAN -----------------------------------------------------------------------------


@pytest.mark.parametrize(("num_layers", "field"), [(1, 16), (2, 34), (3, 70)])
def test_patch_receptive_field_matches_the_gradient_of_one_logit(num_layers: int, field: int) -> None:
    """The input pixels one interior output logit depends on span exactly the receptive field."""
    torch.manual_seed(0)
    discriminator = PatchDiscriminator(1, base_width=4, num_layers=num_layers).eval()
    size = 8 * 2**num_layers + field
    x = torch.randn(1, 1, size, size, requires_grad=True)
    logits = discriminator(x)
    logits[0, 0, logits.shape[-2] // 2, logits.shape[-1] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero()
    cols = x.grad[0, 0].abs().sum(0).nonzero()
    assert rows.max() - rows.min() + 1 == field == cols.max() - cols.min() + 1
    assert patch_receptive_field(num_layers) == field


@pytest.mark.parametrize(
    ("size", "layers", "out"),
    [(256, 3, 30), (32, 1, 14), (28, 1, 12), (64, 2, 14), (128, 3, 14), (512, 3, 62), (8, 1, 2)],
)
def test_patch_discriminator_chooses_layers_from_the_image_size(size: int, layers: int, out: int) -> None:
    discriminator = PatchDiscriminator(2, base_width=2, image_size=size)
    assert discriminator.num_layers == choose_num_layers(size) == layers
    assert discriminator(torch.randn(3, 2, size, size)).shape == (3, 1, out, out)


def receptive_field_of(network: nn.Module) -> int:
    """Walk back from one output pixel through every conv: a field r becomes (r − 1)·stride + kernel."""
    field = 1
    for conv in reversed([m for m in network.modules() if isinstance(m, nn.Conv2d)]):
        field = (field - 1) * conv.stride[0] + conv.kernel_size[0]
    return field


@pytest.mark.parametrize(("size", "field"), [(16, 16), (32, 16), (64, 34), (128, 70), (256, 70), (512, 70)])
def test_patch_discriminator_has_the_papers_70px_field_from_128px_up(size: int, field: int) -> None:
    """CycleGAN trains the 70×70 PatchGAN on 128-px images, pix2pix on 256 (reference: n_layers=3)."""
    discriminator = PatchDiscriminator(3, base_width=2, image_size=size, norm="instance")
    assert receptive_field_of(discriminator) == field == discriminator.receptive_field


def test_patch_discriminator_has_the_papers_size_for_70px_patches() -> None:
    """junyanz/pytorch-CycleGAN-and-pix2pix prints 2.769 M parameters for pix2pix's basic D (6 channels)."""
    with torch.device("meta"):
        discriminator = PatchDiscriminator(6, num_layers=3)
    assert round(sum(p.numel() for p in discriminator.parameters()) / 1e6, 3) == 2.769


@pytest.mark.parametrize("norm", ["batch", "instance", "none"])
def test_conditional_patch_discriminator_takes_source_and_image_channels(norm: str) -> None:
    source, image = torch.randn(2, 1, 16, 16), torch.randn(2, 3, 16, 16)
    discriminator = PatchDiscriminator(4, base_width=4, image_size=16, norm=norm, spectral=True)
    assert discriminator(torch.cat([source, image], dim=1)).shape == (2, 1, 6, 6)
    with pytest.raises(ValueError, match="in_channels = source \\+ image channels"):
        discriminator(image)


def test_patch_discriminator_rejects_too_small_images_and_missing_sizes() -> None:
    with pytest.raises(ValueError, match="at least 24 px"):
        PatchDiscriminator(1, base_width=2, num_layers=3)(torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match="needs num_layers or image_size"):
        PatchDiscriminator(1)
    with pytest.raises(ValueError, match="at least 8 px"):
        PatchDiscriminator(1, image_size=6)


# --- ResNet translator (CycleGAN generator) ------------------------------------------------


@pytest.mark.parametrize(("shape", "c_out"), [((1, 28, 28), 1), ((3, 12, 20), 3), ((1, 32, 32), 3)])
def test_resnet_translator_preserves_the_image_size(shape: tuple[int, int, int], c_out: int) -> None:
    translator = ResNetTranslator(shape[0], c_out, base_width=4, num_blocks=2)
    out = translator(torch.randn(2, *shape) * 3)
    assert out.shape == (2, c_out, *shape[1:])
    assert out.abs().max() <= 1


@pytest.mark.parametrize(("size", "blocks"), [(None, 9), (32, 6), (128, 6), (256, 9), (512, 9)])
def test_resnet_translator_has_the_papers_blocks_for_the_image_size(size: int | None, blocks: int) -> None:
    """Zhu et al. 2017, appendix 7.2: 6 residual blocks for 128-px images, 9 for 256 px and up."""
    translator = ResNetTranslator(1, 1, base_width=2, image_size=size)
    assert translator.num_blocks == blocks == sum(isinstance(m, ResidualBlock) for m in translator.modules())
    explicit = ResNetTranslator(1, 1, base_width=2, num_blocks=4, image_size=256)
    assert explicit.num_blocks == 4 == sum(isinstance(m, ResidualBlock) for m in explicit.modules())


def test_instance_norm_has_no_parameters_nor_running_statistics() -> None:
    """The reference's InstanceNorm2d(affine=False, track_running_stats=False): every map is
    normalised to zero mean and unit variance alone, in train and eval mode alike."""
    norm = normalization_layer("instance", 4)
    assert list(norm.parameters()) == [] and list(norm.buffers()) == []
    x = torch.randn(2, 4, 5, 5) * 3 + 2
    for mode in (True, False):
        out = norm.train(mode)(x)
        torch.testing.assert_close(out.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.var(dim=(2, 3), unbiased=False), torch.ones(2, 4), atol=1e-3, rtol=0)


def test_resnet_translator_has_the_papers_size() -> None:
    """junyanz/pytorch-CycleGAN-and-pix2pix prints 11.378 M parameters for resnet_9blocks with
    instance norm: the same layers, less the conv biases we drop before a norm (a bias there is
    cancelled by the norm's mean), and no norm parameters."""
    with torch.device("meta"):
        translator = ResNetTranslator(3, 3, num_blocks=9)
    dropped_biases = 64 + 128 + 256 + 2 * 9 * 256 + 128 + 64
    assert sum(p.numel() for p in translator.parameters()) + dropped_biases == 11_378_179


def test_resnet_translator_rejects_sizes_it_cannot_restore() -> None:
    with pytest.raises(ValueError, match="divisible by 4"):
        ResNetTranslator(1, 1, base_width=4, num_blocks=1)(torch.randn(1, 1, 30, 30))


# --- SRGAN ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "channels", "low"), [(2, 1, 7), (4, 1, 7), (4, 3, 8), (8, 1, 4)])
def test_srresnet_upscales_by_its_factor(scale: int, channels: int, low: int) -> None:
    generator = SRResNet(channels, scale=scale, width=4, num_blocks=2)
    out = generator(torch.randn(2, channels, low, low) * 3)
    assert out.shape == (2, channels, low * scale, low * scale)
    assert out.abs().max() <= 1


def test_srresnet_rejects_scales_without_subpixel_stages() -> None:
    with pytest.raises(ValueError, match="scale must be one of"):
        SRResNet(1, scale=3)


@pytest.mark.parametrize(("size", "pool"), [(28, 2), (32, 2), (96, 6), (160, 6)])
def test_srgan_discriminator_gives_one_logit_per_image(size: int, pool: int) -> None:
    discriminator = SRGANDiscriminator(3, size, base_width=2, dense_width=8)
    assert discriminator(torch.randn(2, 3, size, size)).shape == (2,)
    assert discriminator.head[0].in_features == 16 * pool * pool
    with pytest.raises(ValueError, match="expects high-resolution images"):
        discriminator(torch.randn(2, 3, size // 2, size // 2))


# --- Image pool ----------------------------------------------------------------------------


def numbered(first: int, count: int) -> torch.Tensor:
    """Images whose every pixel is their id, so returned images can be traced."""
    return torch.arange(first, first + count, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()


def ids(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_image_pool_returns_new_images_while_it_fills() -> None:
    pool = ImagePool(size=6)
    assert ids(pool.query(numbered(0, 4))) == [0, 1, 2, 3]
    assert ids(pool.query(numbered(4, 2))) == [4, 5]
    assert pool.count == 6


def test_full_image_pool_swaps_half_of_the_images_for_stored_ones() -> None:
    torch.manual_seed(0)
    pool = ImagePool(size=10)
    pool.query(numbered(0, 10))
    swapped = 0
    for step in range(200):
        batch = list(range(10 + 8 * step, 18 + 8 * step))
        stored_before = ids(torch.stack(pool.images))
        returned = ids(pool.query(numbered(batch[0], 8)))
        stored_after = ids(torch.stack(pool.images))
        # every image is either returned or kept, once: nothing is duplicated or lost
        assert sorted(stored_before + batch) == sorted(stored_after + returned)
        swapped += sum(out != new for out, new in zip(returned, batch, strict=True))
    assert 0.45 < swapped / 1600 < 0.55


def test_image_pool_resumes_exactly_from_its_state_dict() -> None:
    holder = nn.Module()
    holder.pool = ImagePool(size=5)
    torch.manual_seed(1)
    holder.pool.query(numbered(0, 7))
    buffer = io.BytesIO()
    torch.save(holder.state_dict(), buffer)
    rng = torch.get_rng_state()
    uninterrupted = [ids(holder.pool.query(numbered(100 + 4 * i, 4))) for i in range(10)]

    resumed = nn.Module()
    resumed.pool = ImagePool(size=5)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    torch.set_rng_state(rng)
    assert [ids(resumed.pool.query(numbered(100 + 4 * i, 4))) for i in range(10)] == uninterrupted

    with pytest.raises(ValueError, match="resume with the same pool size"):
        ImagePool(size=3).load_state_dict(holder.pool.state_dict())


def test_empty_image_pool_state_round_trips() -> None:
    pool = ImagePool(size=4)
    pool.load_state_dict(ImagePool(size=4).state_dict())
    assert pool.count == 0 and pool  # an empty pool is not falsy


def test_image_pool_of_size_zero_passes_images_through_without_drawing_random_numbers() -> None:
    images = torch.randn(3, 1, 4, 4, requires_grad=True)
    rng = torch.get_rng_state()
    out = ImagePool(size=0).query(images)
    assert torch.equal(out, images) and not out.requires_grad
    assert torch.equal(torch.get_rng_state(), rng)


# --- PSNR, SSIM, bicubic, perceptual loss --------------------------------------------------


def test_psnr_and_ssim_of_identical_images() -> None:
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    assert psnr(images, images) == float("inf")
    assert ssim(images, images) == pytest.approx(1.0)


def test_psnr_of_a_known_error() -> None:
    """An offset of 0.2 in [-1, 1] is 0.1 in [0, 1]: MSE 0.01, PSNR 20 dB."""
    target = torch.zeros(2, 1, 8, 8)
    assert psnr(target + 0.2, target) == pytest.approx(20.0, abs=1e-4)
    assert psnr(target + 0.2, target, reduction="none").shape == (2,)


def test_bicubic_beats_nearest_on_a_smooth_downsampled_image() -> None:
    grid = torch.linspace(-3, 3, 64)
    smooth = (torch.sin(grid)[:, None] * torch.cos(1.3 * grid)[None, :]).expand(2, 1, 64, 64) * 0.9
    low = F.interpolate(smooth, scale_factor=0.25, mode="bicubic", antialias=True)
    bicubic = bicubic_upscale(low, 4)
    nearest = F.interpolate(low, scale_factor=4, mode="nearest")
    assert bicubic.shape == smooth.shape and bicubic.abs().max() <= 1
    assert psnr(bicubic, smooth) > psnr(nearest, smooth) + 3
    assert ssim(bicubic, smooth) > ssim(nearest, smooth)


def test_restoration_metrics_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 8, 8))


def test_mnist_perceptual_loss_is_zero_on_identical_images_and_trains_only_the_input() -> None:
    loss_fn = PerceptualLoss("mnist").train()
    assert not loss_fn.feature_network.training
    target = torch.rand(2, 1, 28, 28) * 2 - 1
    assert loss_fn(target, target) == 0
    pred = (torch.rand(2, 1, 28, 28) * 2 - 1).requires_grad_()
    loss = loss_fn(pred, target)
    loss.backward()
    assert loss > 0 and pred.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss_fn.parameters())


def test_perceptual_loss_loads_a_local_weights_file(tmp_path) -> None:
    trained = nn.Conv2d(1, 2, 3)
    torch.save(trained.state_dict(), tmp_path / "features.pt")
    loss_fn = PerceptualLoss(nn.Conv2d(1, 2, 3), weights_path=tmp_path / "features.pt")
    assert torch.equal(loss_fn.feature_network.weight, trained.weight)
    with pytest.raises(FileNotFoundError, match="weights not found"):
        PerceptualLoss(nn.Conv2d(1, 2, 3), weights_path=tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="Unknown feature network 'vgg19'"):
        PerceptualLoss("vgg19")
