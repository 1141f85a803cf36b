"""MoCoGAN's networks (Tulyakov et al. 2018): clip shapes through the generator and both
discriminators, the authors' video discriminator, content held and motion varied within a clip."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import (
    DCGANDiscriminator,
    MoCoGANGenerator,
    PairDiscriminator,
    TranslatingGenerator,
    VideoDiscriminator,
    WarpingGenerator,
)
from gan_lightning.networks.video import LayerNoise, sampling_grid
from gan_lightning.tasks.video import sample_frames


def test_clip_shapes_through_generator_and_both_discriminators():
    generator = MoCoGANGenerator(8, 4, 3, num_frames=6, image_size=16, channels=3, base_width=4)
    assert generator.latent_dim == 8 + 4 + 6 * 3
    clips = generator(torch.randn(5, generator.latent_dim))
    assert clips.shape == (5, 3, 6, 16, 16) and clips.abs().max() <= 1
    frames = sample_frames(clips, 2)
    assert frames.shape == (10, 3, 16, 16)
    assert DCGANDiscriminator(16, 3, base_width=4)(frames).shape == (10,)
    assert VideoDiscriminator(6, 16, 3, base_width=4)(clips).shape == (5,)
    for size, frames_count in ((32, 16), (64, 16), (32, 8)):
        critic = VideoDiscriminator(frames_count, size, 1, base_width=2, norm="spectral")
        assert critic(torch.zeros(2, 1, frames_count, size, size)).shape == (2,)
    with pytest.raises(ValueError, match=r"num_frames/image_size/channels"):
        VideoDiscriminator(6, 16, 3)(torch.zeros(1, 3, 5, 16, 16))
    with pytest.raises(ValueError, match=r"latents of shape \(B, 30\)"):
        generator(torch.randn(2, 10))


def test_video_discriminator_has_the_authors_kernels_strides_and_padding():
    """sergeytulyakov/mocogan's VideoDiscriminator at 64 px and 16 frames: four Conv3d with a
    4×4×4 kernel, stride (1, 2, 2), padding (0, 1, 1) (16 → 13 → 10 → 7 → 4 steps), then a
    4×4×4 conv to one score; short clips keep stride 1 and no padding in time."""
    convs = [m for m in VideoDiscriminator(16, 64, 1, base_width=2).net if isinstance(m, torch.nn.Conv3d)]
    layers = [(c.kernel_size, c.stride, c.padding) for c in convs]
    assert layers == [((4, 4, 4), (1, 2, 2), (0, 1, 1))] * 4 + [((4, 4, 4), (1, 1, 1), (0, 0, 0))]
    short = [m for m in VideoDiscriminator(6, 16, 1, base_width=2).net if isinstance(m, torch.nn.Conv3d)]
    assert [c.kernel_size[0] for c in short] == [4, 3, 1] and all(c.padding[0] == 0 for c in short)


def test_video_discriminator_adds_its_noise_before_every_strided_layer_in_training_only():
    """MoCoGAN's D_V adds N(0, σ²) before each of its strided convs, not only at the input."""
    discriminator = VideoDiscriminator(16, 32, 1, base_width=2, noise=0.5)
    modules = list(discriminator.net)
    noisy = [i for i, m in enumerate(modules) if isinstance(m, LayerNoise)]
    strided = [i for i, m in enumerate(modules) if isinstance(m, torch.nn.Conv3d) and m.stride[1] == 2]
    assert [i + 1 for i in noisy] == strided and len(strided) == 3
    added: list[torch.Tensor] = []
    for i in noisy:
        modules[i].register_forward_hook(lambda module, inputs, output: added.append(output - inputs[0]))
    clips = torch.rand(4, 1, 16, 32, 32) * 2 - 1
    torch.manual_seed(0)
    discriminator.train()(clips)
    assert len(added) == 3 and all(abs(float(noise.std()) - 0.5) < 0.05 for noise in added)
    added.clear()
    discriminator.eval()(clips)
    assert all(torch.equal(noise, torch.zeros_like(noise)) for noise in added)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        VideoDiscriminator(noise=-0.1)


def test_content_is_held_and_motion_varies_within_a_clip():
    """Same z_C with different motion noise: the clips differ; the motion codes of one clip
    change from frame to frame (the GRU runs on fresh ε(t))."""
    torch.manual_seed(0)
    generator = MoCoGANGenerator(8, 4, 4, num_frames=5, image_size=8, base_width=4).eval()
    latent = torch.randn(1, generator.latent_dim)
    content, hidden, noise = generator.split_latent(latent)
    codes = generator.motion_codes(hidden, noise)
    assert codes.shape == (1, 5, 4) and not torch.allclose(codes[0, 0], codes[0, 1])
    other = latent.clone()
    other[:, 12:] = torch.randn(1, 20)
    assert torch.equal(generator.split_latent(other)[0], content)
    assert not torch.allclose(generator(latent), generator(other))


def test_content_modulation_starts_as_the_papers_generator_and_scales_every_hidden_layer_by_z_c():
    torch.manual_seed(0)
    modulated = MoCoGANGenerator(8, 4, 4, num_frames=3, image_size=16, base_width=4, content_modulation=True)
    torch.manual_seed(0)
    plain = MoCoGANGenerator(8, 4, 4, num_frames=3, image_size=16, base_width=4)
    assert modulated.load_state_dict(plain.state_dict(), strict=False).missing_keys  # only the modulations
    assert [m.out_features for m in modulated.modulations] == [2 * 8, 2 * 4]  # 4 -> 8 -> 16 px: two hidden layers
    latent = torch.randn(2, modulated.latent_dim)
    assert torch.equal(modulated(latent), plain(latent))  # zero-initialised: the identity
    for modulation in modulated.modulations:
        torch.nn.init.normal_(modulation.weight)
    clips = modulated(latent)
    assert clips.shape == (2, 1, 3, 16, 16) and not torch.allclose(clips, plain(latent))
    clips.sum().backward()
    assert all(m.weight.grad.abs().sum() > 0 for m in modulated.modulations)


def test_motion_warmup_runs_the_gru_on_extra_noise_and_keeps_the_last_t_codes():
    torch.manual_seed(0)
    warmed = MoCoGANGenerator(8, 4, 4, num_frames=5, image_size=8, base_width=4, motion_warmup=3)
    assert warmed.latent_dim == 8 + 4 + (3 + 5) * 4
    latent = torch.randn(2, warmed.latent_dim)
    _content, hidden, noise = warmed.split_latent(latent)
    assert noise.shape == (2, 8, 4)
    codes = warmed.motion_codes(hidden, noise)
    assert codes.shape == (2, 5, 4)
    hidden_after_warmup = hidden
    for t in range(3):
        hidden_after_warmup = warmed.motion(noise[:, t], hidden_after_warmup)
    assert torch.allclose(codes[:, 0], warmed.motion(noise[:, 3], hidden_after_warmup))
    assert warmed(latent).shape == (2, 1, 5, 8, 8)
    with pytest.raises(ValueError, match="motion_warmup must be >= 0"):
        MoCoGANGenerator(motion_warmup=-1)


def test_translating_generator_only_moves_one_image_by_the_motion_shifts():
    """Every frame is the clip's appearance image shifted by whole pixels when the motion head
    asks for whole pixels; where the image leaves the canvas it is black (-1), not grey."""
    torch.manual_seed(0)
    generator = TranslatingGenerator(8, 4, 3, num_frames=4, image_size=16, base_width=4, max_shift=4.0).eval()
    latent = torch.randn(2, generator.latent_dim)
    with torch.no_grad():
        appearance = generator.frames(generator.split_latent(latent)[0])
        generator.shift.weight.zero_()
        generator.shift.bias.copy_(torch.tensor([20.0, -20.0]))  # tanh → (1, -1): 4 px right, 4 px up
        clips = generator(latent)
    assert clips.shape == (2, 1, 4, 16, 16)
    for t in range(4):
        assert torch.allclose(clips[:, :, t, :12, 4:], appearance[:, :, 4:, :12], atol=1e-5)
        assert torch.equal(clips[:, :, t, 12:, :], torch.full_like(clips[:, :, t, 12:, :], -1.0))
        assert torch.equal(clips[:, :, t, :, :4], torch.full_like(clips[:, :, t, :, :4], -1.0))
    assert generator.shifts(torch.randn(3, 5, 4) * 100).abs().max() <= 4.0
    with pytest.raises(ValueError, match="max_shift"):
        TranslatingGenerator(max_shift=0)


def test_sampling_grid_moves_a_map_by_output_pixels():
    """A displacement of 2 output pixels on a half-resolution map is one map pixel; nothing
    flows in from outside the map (zeros)."""
    features = torch.randn(2, 3, 8, 8)
    displacement = torch.zeros(2, 2, 8, 8)
    still = torch.nn.functional.grid_sample(features, sampling_grid(displacement, 16), align_corners=False)
    assert torch.allclose(still, features, atol=1e-5)
    displacement[:, 0], displacement[:, 1] = 2.0, -2.0  # right by one map pixel, up by one
    moved = torch.nn.functional.grid_sample(features, sampling_grid(displacement, 16), align_corners=False)
    assert torch.allclose(moved[:, :, :-1, 1:], features[:, :, 1:, :-1], atol=1e-5)
    assert moved[:, :, :, 0].abs().max() == 0 and moved[:, :, -1, :].abs().max() == 0


def test_warping_generator_motion_moves_the_content_features_and_nothing_else():
    """With the local flow at zero (its initial state) each frame is the renderer drawing the
    clip's one feature map shifted by the motion head; the renderer has stride 1, so a shift by
    whole pixels moves the frame by as many pixels, away from the border. The motion code
    reaches the frames only through the warp: at zero displacement every frame is the same."""
    torch.manual_seed(0)
    generator = WarpingGenerator(8, 4, 3, num_frames=4, image_size=16, base_width=4, max_shift=4.0).eval()
    assert generator.deform.weight.abs().max() == 0  # starts as a pure translation
    assert not hasattr(generator, "frames")  # MoCoGAN's frame generator (which reads z_M) is gone
    latent = torch.randn(2, generator.latent_dim)
    with torch.no_grad():
        for parameter in generator.render.parameters():  # frames of order 1, not DCGAN's init scale
            parameter.normal_(0.0, 0.5)
        generator.shift.weight.zero_()
        generator.shift.bias.zero_()
        clips_still = generator(latent)
        generator.shift.bias.copy_(torch.tensor([20.0, 0.0]))  # tanh → 1: 4 px right
        clips_moved = generator(latent)
    assert clips_still.shape == (2, 1, 4, 16, 16)
    assert torch.allclose(clips_still, clips_still[:, :, :1].expand_as(clips_still), atol=1e-6)
    assert torch.allclose(clips_moved[..., 5:11], clips_still[..., 1:7], atol=1e-5)  # columns x ← x - 4
    assert not torch.allclose(clips_moved, clips_still, atol=1e-2)
    local = generator.displacements(torch.randn(3, 5, 4) * 100)
    assert local.shape == (15, 2, 16, 16) and local.abs().max() <= 4.0 + 2.0 + 1e-5
    for bad, match in (
        ({"max_shift": 0}, "max_shift"),
        ({"max_deform": -1}, "max_deform"),
        ({"flow_grid": 0}, "flow_grid"),
    ):
        with pytest.raises(ValueError, match=match):
            WarpingGenerator(**bad)


def test_pair_discriminator_is_symmetric_reads_both_frames_and_checks_its_input():
    torch.manual_seed(0)
    critic = PairDiscriminator(16, 3, base_width=4).eval()  # eval: spectral norm holds its estimate
    first, second = torch.randn(5, 3, 16, 16), torch.randn(5, 3, 16, 16)
    pairs = torch.cat([first, second], dim=1).requires_grad_()
    scores = critic(pairs)
    assert scores.shape == (5,)
    assert torch.allclose(scores, critic(torch.cat([second, first], dim=1)), atol=1e-6)  # order does not matter
    scores.sum().backward()
    assert pairs.grad[:, :3].abs().sum() > 0 and pairs.grad[:, 3:].abs().sum() > 0  # both frames are read
    # Each pair is scored alone: changing pair 0's second frame moves score 0 only.
    changed = pairs.detach().clone()
    changed[0, 3:] = torch.randn(3, 16, 16)
    moved = critic(changed) != scores
    assert moved.tolist() == [True, False, False, False, False]
    with pytest.raises(ValueError, match=r"two frames of 3 channel\(s\) stacked"):
        critic(torch.randn(2, 3, 16, 16))
