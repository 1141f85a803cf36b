"""Video GAN networks: MoCoGAN's content/motion generator and a spatio-temporal critic.

MoCoGAN (Tulyakov et al. 2018, "MoCoGAN: Decomposing Motion and Content for Video
Generation", Sec. 3): a clip is a path in a latent space of images. One *content* code
z_C is drawn per clip and held for all frames; *motion* codes z_M(1..T) come from a GRU
driven by fresh noise ε(t) at every step (Eq. 3); each frame is an image generator applied
to [z_C, z_M(t)]. Two discriminators judge the result: D_I single frames (is each frame a
real image?), D_V whole clips with 3D convolutions (is the motion real?).

Clips are (B, C, T, H, W), the layout of ``nn.Conv3d``.

D_V follows the authors' code (sergeytulyakov/mocogan): 4×4×4 kernels, stride (1, 2, 2), no
temporal padding, optional Gaussian noise before every strided layer. Deliberate
differences: a clip too short to lose 3 steps per layer gets the temporal kernel of the
steps left (:func:`temporal_kernels`); the noise is off in eval mode; the convs no batch
norm follows (the first, the head) keep their bias. Per-layer noise in D_I is not offered
(D_I is any image discriminator): the task's ``instance_noise`` adds noise at the input of
both.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from gan_lightning.networks.dcgan import DCGANGenerator, upsampling_plan
from gan_lightning.networks.init import dcgan_init, initialise_weight
from gan_lightning.networks.layers import Normalization, maybe_spectral, normalization_layer

VideoNormalization = Literal["batch", "spectral", "none"]


class MoCoGANGenerator(nn.Module):
    """z → clip (B, C, T, H, W) in [-1, 1], content and motion separated (Tulyakov et al. 2018).

    The input is one flat latent per clip so tasks draw it like any noise (``latent_dim``):
    ``[z_C (content_dim) | h(0) (motion_dim) | ε(1..T) (T × noise_dim)]``, all standard
    normal. The GRU cell maps ε(t) and h(t-1) to h(t) = z_M(t) (Eq. 3, h(0) random as in the
    authors' code); every frame's latent [z_C, z_M(t)] goes through one DCGAN image generator
    (Radford et al. 2016), batched over B·T frames.

    Args:
        content_dim: size of z_C (the paper's d_C = 50).
        motion_dim: size of z_M(t), the GRU's hidden state (d_M = 10).
        noise_dim: size of ε(t) (10 in the paper).
        num_frames: frames per clip (T).
        image_size, channels, base_width, norm: the per-frame DCGAN generator.
        content_modulation: z_C also sets the scale and shift of every hidden layer of the
            frame generator (FiLM, Perez et al. 2018; zero-initialised, so training starts from
            the paper's generator). Why: entering only at the input, z_C competes with z_M(t)
            for the first layer and the digit drifts between frames; fed to every resolution it
            is meant to hold the shape (measured: within seed spread so far, BENCHMARKS.md "Video").
        motion_warmup: GRU steps run on extra noise before the first frame, whose codes are
            dropped (the latent grows by ``motion_warmup × noise_dim``). Why: from h(0) ~ N(0, I)
            the GRU's codes contract towards its stationary spread within a few steps, so the
            first frames' codes differ from the last frames' in distribution, and a frame
            generator that reads z_M draws the late frames of every clip alike; started from
            the stationary state, every frame's code has the same spread (it removed that
            late-frame collapse; consistency moved within seed spread, BENCHMARKS.md "Video").
    """

    def __init__(
        self,
        content_dim: int = 50,
        motion_dim: int = 10,
        noise_dim: int = 10,
        num_frames: int = 16,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: Normalization = "batch",
        content_modulation: bool = False,
        motion_warmup: int = 0,
    ) -> None:
        super().__init__()
        for name, value in (("content_dim", content_dim), ("motion_dim", motion_dim), ("noise_dim", noise_dim)):
            if value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}.")
        if num_frames < 2:
            raise ValueError(f"num_frames must be at least 2 (a clip with motion), got {num_frames}.")
        if motion_warmup < 0:
            raise ValueError(f"motion_warmup must be >= 0 GRU steps (0: none), got {motion_warmup}.")
        self.content_dim, self.motion_dim, self.noise_dim = content_dim, motion_dim, noise_dim
        self.num_frames, self.image_size, self.channels = num_frames, image_size, channels
        self.motion_warmup = motion_warmup
        self.latent_dim = content_dim + motion_dim + (motion_warmup + num_frames) * noise_dim
        self.motion = nn.GRUCell(noise_dim, motion_dim)
        self.frames = DCGANGenerator(content_dim + motion_dim, image_size, channels, base_width, norm)
        self.modulations = (
            nn.ModuleList(zero_linear(content_dim, 2 * conv.out_channels) for conv in hidden_convolutions(self.frames))
            if content_modulation
            else None
        )

    def split_latent(self, latent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(z_C (B, content_dim), h(0) (B, motion_dim), ε (B, warm-up + T, noise_dim))``."""
        steps = self.motion_warmup + self.num_frames
        if latent.dim() != 2 or latent.shape[1] != self.latent_dim:
            raise ValueError(
                f"{type(self).__name__} takes latents of shape (B, {self.latent_dim}) = content {self.content_dim} "
                f"+ motion {self.motion_dim} + {steps} steps × noise {self.noise_dim}; "
                f"got {tuple(latent.shape)}."
            )
        content, hidden, noise = latent.split([self.content_dim, self.motion_dim, steps * self.noise_dim], 1)
        return content, hidden, noise.reshape(-1, steps, self.noise_dim)

    def motion_codes(self, hidden: Tensor, noise: Tensor) -> Tensor:
        """z_M(1..T) (B, T, motion_dim): the GRU run over ε from h(0), the codes of the
        ``motion_warmup`` first steps dropped."""
        codes = []
        for t in range(noise.shape[1]):
            hidden = self.motion(noise[:, t], hidden)
            codes.append(hidden)
        return torch.stack(codes[self.motion_warmup :], dim=1)

    def forward(self, latent: Tensor) -> Tensor:
        content, hidden, noise = self.split_latent(latent)
        motion = self.motion_codes(hidden, noise)  # (B, T, d_M)
        batch, frames = motion.shape[:2]
        held = content.unsqueeze(1).expand(-1, frames, -1)  # z_C held for every frame
        codes = torch.cat([held, motion], dim=-1).reshape(batch * frames, -1)
        images = self.frames(codes) if self.modulations is None else self.modulated_frames(codes, content, frames)
        return as_clips(images, frames)

    def modulated_frames(self, codes: Tensor, content: Tensor, frames: int) -> Tensor:
        """The frame generator's layers with ``x · (1 + γ(z_C)) + β(z_C)`` after the
        normalisation of each hidden convolution (``content_modulation``)."""
        x = codes.view(codes.shape[0], -1, 1, 1)
        layers = list(self.frames.net)
        modulations = iter(self.modulations)
        for index, layer in enumerate(layers):
            x = layer(x)
            if index > 0 and isinstance(layers[index - 1], nn.ConvTranspose2d) and index < len(layers) - 1:
                scale, shift = next(modulations)(content).repeat_interleave(frames, dim=0).chunk(2, dim=1)
                x = x * (1 + scale[..., None, None]) + shift[..., None, None]
        return x


def per_frame(images: Tensor, frames: int) -> Tensor:
    """(B, ...) → (B·T, ...): each clip's one image (or feature map) repeated for its frames."""
    return images.unsqueeze(1).expand(-1, frames, *images.shape[1:]).flatten(0, 1)


def as_clips(images: Tensor, frames: int) -> Tensor:
    """(B·T, C, H, W) frames, clip by clip → clips (B, C, T, H, W)."""
    return images.view(-1, frames, *images.shape[1:]).transpose(1, 2)


def hidden_convolutions(generator: DCGANGenerator) -> list[nn.ConvTranspose2d]:
    """The DCGAN generator's transposed convolutions that a normalisation follows (all but the
    output layer)."""
    convolutions = [layer for layer in generator.net if isinstance(layer, nn.ConvTranspose2d)]
    return convolutions[:-1]


def zero_linear(in_features: int, out_features: int) -> nn.Linear:
    """A linear map that starts at zero: a modulation that is the identity at initialisation."""
    layer = nn.Linear(in_features, out_features)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


class TranslatingGenerator(MoCoGANGenerator):
    """MoCoGAN's content/motion split with the motion made explicit: z_C draws *one* image
    (the appearance, a DCGAN generator), and each motion code z_M(t) only moves it — a
    linear map to a shift (dx, dy) of at most ``max_shift`` pixels, applied by resampling
    (``affine_grid``/``grid_sample``, black where the image leaves the canvas). Layered
    appearance + transformation models of video (cf. van Amersfoort et al. 2017,
    "Transformation-Based Models of Video Sequences") trade MoCoGAN's generality for a prior
    that suits sprites moving on a background: a digit cannot change shape between frames,
    so D_V only has to teach the trajectory. Same latent layout as :class:`MoCoGANGenerator`.

    Args:
        max_shift: the largest shift in pixels from the appearance image's position.
        (the rest as :class:`MoCoGANGenerator`; the frame generator reads z_C only.)
    """

    def __init__(
        self,
        content_dim: int = 50,
        motion_dim: int = 10,
        noise_dim: int = 10,
        num_frames: int = 16,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: Normalization = "batch",
        max_shift: float = 8.0,
    ) -> None:
        super().__init__(content_dim, motion_dim, noise_dim, num_frames, image_size, channels, base_width, norm)
        if max_shift <= 0:
            raise ValueError(f"max_shift must be a positive number of pixels, got {max_shift}.")
        self.max_shift = max_shift
        self.frames = DCGANGenerator(content_dim, image_size, channels, base_width, norm)
        self.shift = nn.Linear(motion_dim, 2)

    def shifts(self, motion: Tensor) -> Tensor:
        """(B, T, 2) shifts in pixels, (dx, dy), from the motion codes (B, T, motion_dim)."""
        return torch.tanh(self.shift(motion)) * self.max_shift

    def forward(self, latent: Tensor) -> Tensor:
        content, hidden, noise = self.split_latent(latent)
        shifts = self.shifts(self.motion_codes(hidden, noise))  # (B, T, 2) pixels
        appearance = self.frames(content)  # (B, C, H, W): one image per clip
        batch, frames = shifts.shape[:2]
        height, width = appearance.shape[-2:]
        theta = torch.zeros(batch * frames, 2, 3, dtype=appearance.dtype, device=appearance.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        # affine_grid maps output to input coordinates in [-1, 1]: moving the image by +d px
        # samples the input at -2d / size.
        theta[:, 0, 2] = -2 * shifts[..., 0].flatten() / width
        theta[:, 1, 2] = -2 * shifts[..., 1].flatten() / height
        repeated = per_frame(appearance, frames)
        grid = nn.functional.affine_grid(theta, list(repeated.shape), align_corners=False)
        # Resample on the [0, 2] offset so the canvas outside the image is black (-1), not grey.
        moved = nn.functional.grid_sample(repeated + 1, grid, align_corners=False, padding_mode="zeros") - 1
        return as_clips(moved, frames)


class WarpingGenerator(MoCoGANGenerator):
    """MoCoGAN in which the motion code *deforms* the content instead of redrawing it: z_C
    draws one feature map per clip (a DCGAN generator up to half the output size, upsampled
    ×2), each motion code z_M(t) gives a displacement field — a global shift plus a smooth local
    flow on a coarse ``flow_grid`` × ``flow_grid`` lattice, upsampled — that warps those features
    (``grid_sample``), and two 3×3 convolutions render every warped map to a frame.

    Why: in :class:`MoCoGANGenerator` z_M(t) enters the frame generator beside z_C, and
    trained on Moving MNIST the motion code decides what is drawn (the digit morphs; consistency
    0.4, BENCHMARKS.md "Video"). Here z_M reaches the frames only through where features are
    sampled, so whatever moves or deforms (translation, bounce, local bending) is expressible
    and a change of identity is not. :class:`TranslatingGenerator` is the special case of a
    global shift of the finished image; warping features (cf. the appearance/motion split of
    Siarohin et al. 2019, "First Order Motion Model") lets the renderer draw a moved stroke
    afresh. The warp is at the output resolution and the renderer has stride 1, so a shift by
    whole pixels moves the frame exactly (a stride-2 transposed conv after a sub-pixel warp
    drew dotted, checkered strokes). What it cannot make: content that appears during a clip
    (a new object, an occluded side turning into view). Same latent layout as
    :class:`MoCoGANGenerator`.

    Args:
        max_shift: the largest global shift, in pixels of the output.
        max_deform: the largest local displacement, in pixels, added to the shift. The local
            flow starts at zero (the generator begins as a pure translation).
        flow_grid: side of the lattice the local flow is drawn on (coarser = smoother).
        (the rest as :class:`MoCoGANGenerator`; the content network reads z_C only.)
    """

    def __init__(
        self,
        content_dim: int = 50,
        motion_dim: int = 10,
        noise_dim: int = 10,
        num_frames: int = 16,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: Normalization = "batch",
        motion_warmup: int = 0,
        max_shift: float = 8.0,
        max_deform: float = 2.0,
        flow_grid: int = 4,
    ) -> None:
        super().__init__(
            content_dim, motion_dim, noise_dim, num_frames, image_size, channels, base_width, norm,
            motion_warmup=motion_warmup,
        )  # fmt: skip
        if max_shift <= 0:
            raise ValueError(f"max_shift must be a positive number of pixels, got {max_shift}.")
        if max_deform < 0:
            raise ValueError(f"max_deform must be >= 0 pixels (0: translation only), got {max_deform}.")
        if flow_grid < 1:
            raise ValueError(f"flow_grid must be a positive lattice side, got {flow_grid}.")
        self.max_shift, self.max_deform, self.flow_grid = max_shift, max_deform, flow_grid
        del self.frames  # the content network and the renderer replace MoCoGAN's frame generator
        trunk = DCGANGenerator(content_dim, image_size, channels, base_width, norm).net[:-2]  # no output layer
        self.content = nn.Sequential(*trunk, nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False))
        self.render = nn.Sequential(
            nn.Conv2d(base_width, base_width, 3, 1, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(base_width, channels, 3, 1, 1),
            nn.Tanh(),
        )
        self.render.apply(dcgan_init)
        self.shift = nn.Linear(motion_dim, 2)
        self.deform = zero_linear(motion_dim, 2 * flow_grid * flow_grid)

    def displacements(self, motion: Tensor) -> Tensor:
        """(B·T, 2, H, W) displacement (dx, dy) in pixels of every point of a frame, from the
        motion codes (B, T, motion_dim)."""
        codes = motion.flatten(0, 1)
        shift = torch.tanh(self.shift(codes)) * self.max_shift
        local = torch.tanh(self.deform(codes)).view(-1, 2, self.flow_grid, self.flow_grid) * self.max_deform
        size = (self.image_size, self.image_size)
        return shift[..., None, None] + nn.functional.interpolate(
            local, size=size, mode="bilinear", align_corners=False
        )

    def forward(self, latent: Tensor) -> Tensor:
        content, hidden, noise = self.split_latent(latent)
        motion = self.motion_codes(hidden, noise)  # (B, T, d_M)
        batch, frames = motion.shape[:2]
        features = self.content(content.view(batch, -1, 1, 1))  # (B, F, H, W): one map per clip
        repeated = per_frame(features, frames)
        grid = sampling_grid(self.displacements(motion), self.image_size)
        moved = nn.functional.grid_sample(repeated, grid, align_corners=False)  # zeros outside: no feature
        return as_clips(self.render(moved), frames)


def sampling_grid(displacement: Tensor, image_size: int) -> Tensor:
    """The ``grid_sample`` grid (N, h, w, 2) that moves a map's content by ``displacement``
    (N, 2, h, w; output pixels of an ``image_size`` canvas): the point at p samples p - d."""
    count, _, height, width = displacement.shape
    identity = torch.eye(2, 3, dtype=displacement.dtype, device=displacement.device).expand(count, -1, -1)
    base = nn.functional.affine_grid(identity, [count, 1, height, width], align_corners=False)
    return base - (2 * displacement / image_size).permute(0, 2, 3, 1)


TEMPORAL_KERNEL = 4  # MoCoGAN's D_V: 4×4×4 kernels, temporal stride 1, no temporal padding


def temporal_kernels(num_frames: int, layers: int) -> list[int]:
    """Temporal kernel of each of ``layers`` convolutions, stride 1 and no padding in time as
    the authors' D_V (each layer takes 3 steps off: 16 → 13 → 10 → 7 → 4 at 64 px); a clip
    too short for that gets the steps it has left (a 4-frame clip is all seen by the first)."""
    kernels, frames = [], num_frames
    for _ in range(layers):
        kernel = min(TEMPORAL_KERNEL, frames)
        kernels.append(kernel)
        frames -= kernel - 1
    return kernels


class LayerNoise(nn.Module):
    """Adds N(0, σ²) to its input in training (MoCoGAN's ``Noise`` module before each layer of
    its discriminators; instance noise, Sønderby et al. 2016); the identity in eval mode, so
    a discriminator that scores samples after training sees them as they are."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma < 0:
            raise ValueError(f"noise must be >= 0 (a standard deviation), got {sigma}.")
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.sigma > 0:
            return x + self.sigma * torch.randn_like(x)
        return x


class VideoDiscriminator(nn.Module):
    """D_V: a clip (B, C, T, H, W) → one raw score per clip, with 3D convolutions
    (spatio-temporal, MoCoGAN's D_V, Tulyakov et al. 2018, Sec. 3, and the authors' code).

    Each layer is [noise]-Conv3d (kernel 4×4×4, stride (1, 2, 2), padding (0, 1, 1): the
    spatial side halves, the clip loses 3 steps; see :func:`temporal_kernels` for short clips),
    then the norm and LeakyReLU(0.2); a last Conv3d covers what remains (T' × 4 × 4) with one
    score. Widths double per layer from ``base_width``. The authors' D_V has no biases; here
    the convs without a following batch norm keep theirs.

    Args:
        num_frames, image_size, channels: the clips it judges.
        base_width: channels of the first layer.
        norm: ``batch`` (MoCoGAN), ``spectral`` or ``none`` (for gradient penalties).
        noise: σ of the Gaussian noise added before every strided layer in training, as the
            authors' ``--use_noise --noise_sigma`` (0: none). Use it *instead of* the task's
            ``instance_noise``, which adds noise at the input only (and to D_I's frames too).
    """

    def __init__(
        self,
        num_frames: int = 16,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: VideoNormalization = "batch",
        noise: float = 0.0,
    ) -> None:
        super().__init__()
        if norm not in ("batch", "spectral", "none"):
            raise ValueError(f"norm must be 'batch', 'spectral' or 'none', got {norm!r}.")
        if num_frames < 1:
            raise ValueError(f"num_frames must be a positive integer, got {num_frames}.")
        self.num_frames, self.image_size, self.channels = num_frames, image_size, channels
        start, doublings = upsampling_plan(image_size)
        layers: list[nn.Module] = []
        width, in_channels, frames = base_width, channels, num_frames
        for i, kernel in enumerate(temporal_kernels(num_frames, doublings)):
            conv = nn.Conv3d(in_channels, width, (kernel, 4, 4), (1, 2, 2), (0, 1, 1), bias=norm != "batch" or i == 0)
            layers += [LayerNoise(noise), nn.utils.parametrizations.spectral_norm(conv) if norm == "spectral" else conv]
            if norm == "batch" and i > 0:  # no norm on the first layer (DCGAN, Radford et al. 2016)
                layers.append(nn.BatchNorm3d(width))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels, width, frames = width, width * 2, frames - kernel + 1
        head = nn.Conv3d(in_channels, 1, (frames, start, start))
        layers.append(nn.utils.parametrizations.spectral_norm(head) if norm == "spectral" else head)
        self.net = nn.Sequential(*layers)
        self.apply(video_init)

    def forward(self, clips: Tensor) -> Tensor:
        expected = (self.channels, self.num_frames, self.image_size, self.image_size)
        if clips.dim() != 5 or tuple(clips.shape[1:]) != expected:
            raise ValueError(
                f"{type(self).__name__} expects clips of shape (B, {', '.join(map(str, expected))}) = (B, C, T, H, W) "
                f"but got {tuple(clips.shape)}: set its num_frames/image_size/channels to the data's."
            )
        return self.net(clips).flatten()


class PairDiscriminator(nn.Module):
    """D_P for :class:`~gan_lightning.tasks.VideoGAN`: two frames of a clip stacked on channels
    (N, 2C, H, W) → one raw score per pair, judging both "real frames?" and "the same content?".

    A siamese design (Bromley et al. 1993): one DCGAN conv encoder (Radford et al. 2016) reads
    each frame alone; its feature maps are averaged over space, so a digit's features barely
    depend on where it stands, and an MLP scores ``[f_a + f_b, |f_a - f_b|]`` — the sum for
    what both frames look like, the difference for whether they show one thing. A plain conv
    net on the stacked frames (``DCGANDiscriminator(channels=2C)``) must compare shapes at
    different positions itself; on Moving MNIST after 2,000 iterations it scored real pairs of
    two different clips nearly as real as pairs of one clip (docs/video.md).

    Args:
        image_size, channels: the frames (``channels`` of one frame; the input has twice that).
        base_width: channels of the first conv, doubled per stride-2 layer (as DCGAN's D).
        norm: ``spectral`` (default), ``batch``, ``layer``, ``instance`` or ``none``.
    """

    def __init__(
        self, image_size: int = 32, channels: int = 1, base_width: int = 16, norm: Normalization = "spectral"
    ) -> None:
        super().__init__()
        self.image_size, self.channels = image_size, channels
        _, doublings = upsampling_plan(image_size)
        layers: list[nn.Module] = []
        width, in_channels = base_width, channels
        for i in range(doublings):
            conv = nn.Conv2d(in_channels, width, 4, 2, 1, bias=i == 0 or norm in ("none", "spectral"))
            layers += [maybe_spectral(conv, norm), normalization_layer(norm, width) if i else nn.Identity()]
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_channels, width = width, width * 2
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(
            maybe_spectral(nn.Linear(2 * in_channels, in_channels), norm),
            nn.LeakyReLU(0.2, inplace=True),
            maybe_spectral(nn.Linear(in_channels, 1), norm),
        )
        self.apply(dcgan_init)

    def features(self, frames: Tensor) -> Tensor:
        """(N, F): each frame's encoder features averaged over space."""
        return self.encoder(frames).mean(dim=(2, 3))

    def forward(self, pairs: Tensor) -> Tensor:
        expected = (2 * self.channels, self.image_size, self.image_size)
        if pairs.dim() != 4 or tuple(pairs.shape[1:]) != expected:
            raise ValueError(
                f"{type(self).__name__} expects frame pairs of shape (N, {', '.join(map(str, expected))}) "
                f"= two frames of {self.channels} channel(s) stacked, but got {tuple(pairs.shape)}."
            )
        frames = pairs.reshape(-1, self.channels, self.image_size, self.image_size)  # a0, b0, a1, b1, ...
        first, second = self.features(frames).unflatten(0, (-1, 2)).unbind(1)
        return self.head(torch.cat([first + second, (first - second).abs()], dim=1)).flatten()


def video_init(module: nn.Module) -> None:
    """:func:`~gan_lightning.networks.init.dcgan_init` extended to 3D layers (Radford et al.
    2016, Sec. 4): conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0."""
    if isinstance(module, nn.Conv3d):
        initialise_weight(module, lambda weight: nn.init.normal_(weight, 0.0, 0.02))
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm3d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    else:
        dcgan_init(module)
