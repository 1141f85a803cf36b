"""A compact StyleGAN2 generator (Karras et al. 2020, "Analyzing and Improving the Image
Quality of StyleGAN"), sized for 28-64 px.

- Mapping network z → w (Karras et al. 2019, Sec. 2), with a running average ``w_avg``.
- Modulated / demodulated 3×3 convolutions (StyleGAN2 Sec. 2.2, Eq. 1-3): w sets a scale
  per input channel; demodulation restores unit output variance instead of AdaIN.
- Per-layer noise inputs with learned strength (StyleGAN Sec. 3.2).
- Skip-connection ToRGB outputs summed across resolutions (StyleGAN2 Fig. 7b).
- Style mixing regularization (StyleGAN Sec. 3.1): in training, with ``mixing_prob``, the
  layers after a random crossover take w from a second z.
- Truncation trick (StyleGAN Sec. 3.1 / Eq. 3), at sampling time only (eval mode):
  ``w ← w_avg + ψ (w - w_avg)``. ψ = ``truncation_psi`` (1 = off).
- Equalized learning rate (Karras et al. 2018, ProGAN Sec. 4.1) on every weight.

Simplification, for size: upsampling is bilinear interpolation before the conv (no
transposed conv + blur filter). Path-length regularization (StyleGAN2 Sec. 3.2) is a
generator regularizer, :class:`~gan_lightning.regularizers.PathLengthPenalty`, which
differentiates through :meth:`StyleGAN2Generator.styles` and
:meth:`StyleGAN2Generator.synthesis` (the w space, as the paper). Pair with R1 and lazy
regularization (``R1Penalty(interval=16)``), the path-length penalty
(``PathLengthPenalty(interval=4)``) and a ResNet discriminator with minibatch std
(``configs/stylegan.yaml``).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.networks.dcgan import upsampling_plan

_LRELU_GAIN = math.sqrt(2.0)


class EqualizedLinear(nn.Module):
    """Linear layer with weights ~ N(0, 1) scaled at run time by ``lr_multiplier / √fan_in``
    so every layer learns at the same speed under Adam (ProGAN Sec. 4.1)."""

    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0, lr_multiplier: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_multiplier))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias * self.bias_gain)


class MappingNetwork(nn.Module):
    """z → normalise (pixel norm) → ``num_layers`` × (linear, leaky ReLU) → w.

    The mapping layers learn 100× slower (``lr_multiplier=0.01``, StyleGAN Sec. 4 / App. C).
    """

    def __init__(self, latent_dim: int, w_dim: int, num_layers: int = 4, lr_multiplier: float = 0.01) -> None:
        super().__init__()
        sizes = [latent_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            EqualizedLinear(fan_in, fan_out, lr_multiplier=lr_multiplier)
            for fan_in, fan_out in itertools.pairwise(sizes)
        )

    def forward(self, z: Tensor) -> Tensor:
        x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2) * _LRELU_GAIN
        return x


class ModulatedConv2d(nn.Module):
    """StyleGAN2 Eq. 1-3: ``w'_ijk = s_i · w_ijk`` then, with ``demodulate``,
    ``w''_ijk = w'_ijk / √(Σ_ik w'_ijk² + ε)``.

    Computed by scaling the activations instead of the weights (the same result, one shared
    conv for the whole batch): x·s → conv → ·demodulation coefficient per (sample, channel).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        w_dim: int,
        demodulate: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.affine = EqualizedLinear(w_dim, in_channels, bias_init=1.0)  # styles start at 1
        self.demodulate = demodulate
        self.upsample = upsample
        self.padding = kernel_size // 2

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        styles = self.affine(w)  # (B, in)
        weight = self.weight * self.weight_gain
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)
        x = F.conv2d(x * styles[:, :, None, None], weight, padding=self.padding)
        if self.demodulate:
            # Σ_ik (s_i w_ijk)² = Σ_i s_i² · Σ_k w_ijk²  → (B, out)
            coefficients = (styles.square() @ weight.square().sum(dim=(2, 3)).t() + 1e-8).rsqrt()
            x = x * coefficients[:, :, None, None]
        return x


class NoiseInput(nn.Module):
    """Adds per-pixel Gaussian noise, one map per sample, times a learned strength (init 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return x + noise * self.strength


class StyledConv(nn.Module):
    """Modulated conv → noise → bias → leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool = False) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, w_dim, upsample=upsample)
        self.noise = NoiseInput()
        self.bias = nn.Parameter(torch.zeros(out_channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        x = self.noise(self.conv(x, w)) + self.bias[None, :, None, None]
        return F.leaky_relu(x, 0.2) * _LRELU_GAIN


class ToRGB(nn.Module):
    """1×1 modulated conv without demodulation (StyleGAN2 Fig. 7b)."""

    def __init__(self, in_channels: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, channels, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor, w: Tensor) -> Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class StyleGAN2Generator(nn.Module):
    """Mapping network + synthesis network from a learned constant.

    Layers in order, each taking one w: the constant's conv, then per doubling an
    upsampling conv and a conv; each resolution's ToRGB shares the w of the next conv
    (as StyleGAN2). ``num_ws`` counts them; style mixing splits that list.

    Output: ``tanh`` of the summed ToRGB outputs, so images lie in [-1, 1] like every
    generator here (the data, the sample grids and the metrics assume that range). This is
    a deviation from the paper: Karras et al. 2020 (and stylegan2-ada-pytorch, whose
    ToRGB layers are linear) leave the output unbounded and clamp only when writing images. Where
    the data sits at ±1 (MNIST's background at -1), tanh makes the pre-activation grow
    instead of stopping at ±1, and its gradient shrinks there; its effect on FID has not
    been measured here.

    Args:
        latent_dim: size of z (also exposed for the GAN module).
        image_size: 28 (7×7 start), 32 or 64 (4×4 start); see :func:`upsampling_plan`.
        channels: image channels.
        width: feature channels at every resolution (compact: 64).
        w_dim: size of w; ``mapping_layers``: depth of the mapping network (the paper: 8).
        mixing_prob: probability of style mixing per training batch (the paper: 0.9).
        truncation_psi: ψ of the truncation trick, applied in eval mode only.
        w_avg_beta: decay of the running average of w that truncation pulls towards.
    """

    def __init__(
        self,
        latent_dim: int = 128,
        image_size: int = 32,
        channels: int = 3,
        width: int = 64,
        w_dim: int = 128,
        mapping_layers: int = 4,
        mixing_prob: float = 0.9,
        truncation_psi: float = 1.0,
        w_avg_beta: float = 0.995,
    ) -> None:
        super().__init__()
        if not 0.0 <= mixing_prob <= 1.0:
            raise ValueError(f"mixing_prob must be in [0, 1], got {mixing_prob}.")
        if min(latent_dim, channels, width, w_dim) < 1:
            raise ValueError("latent_dim, channels, width and w_dim must be positive integers.")
        self.latent_dim = latent_dim
        self.image_size = image_size
        self.channels = channels
        self.mixing_prob = mixing_prob
        self.truncation_psi = truncation_psi
        self.w_avg_beta = w_avg_beta
        start, doublings = upsampling_plan(image_size)
        self.mapping = MappingNetwork(latent_dim, w_dim, mapping_layers)
        self.register_buffer("w_avg", torch.zeros(w_dim))
        self.constant = nn.Parameter(torch.randn(width, start, start))
        self.first_conv = StyledConv(width, width, w_dim)
        self.up_convs = nn.ModuleList(StyledConv(width, width, w_dim, upsample=True) for _ in range(doublings))
        self.convs = nn.ModuleList(StyledConv(width, width, w_dim) for _ in range(doublings))
        self.to_rgbs = nn.ModuleList(ToRGB(width, channels, w_dim) for _ in range(doublings + 1))
        self.num_ws = 2 * doublings + 2

    def styles(self, z: Tensor) -> Tensor:
        """Per-layer w (B, num_ws, w_dim): mixed in training, truncated in eval."""
        w = self.mapping(z)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if self.training:
            with torch.no_grad():
                # float32 average under bf16/fp16 autocast too (lerp wants one dtype)
                self.w_avg.copy_(w.detach().mean(dim=0).to(self.w_avg.dtype).lerp(self.w_avg, self.w_avg_beta))
            if self.mixing_prob > 0 and torch.rand(()) < self.mixing_prob:
                crossover = int(torch.randint(1, self.num_ws, ()))
                ws[:, crossover:] = self.mapping(torch.randn_like(z)).unsqueeze(1)
        elif self.truncation_psi != 1.0:
            ws = self.w_avg.lerp(ws, self.truncation_psi)
        return ws

    def synthesis(self, ws: Tensor) -> Tensor:
        """Images from per-layer styles (B, num_ws, w_dim), in [-1, 1]."""
        if ws.dim() != 3 or ws.shape[1] != self.num_ws:
            raise ValueError(f"synthesis expects styles of shape (B, {self.num_ws}, w_dim), got {tuple(ws.shape)}.")
        x = self.constant.unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
        x = self.first_conv(x, ws[:, 0])
        rgb = self.to_rgbs[0](x, ws[:, 1])
        for i, (up_conv, conv, to_rgb) in enumerate(zip(self.up_convs, self.convs, self.to_rgbs[1:], strict=True)):
            x = up_conv(x, ws[:, 2 * i + 1])
            x = conv(x, ws[:, 2 * i + 2])
            rgb = F.interpolate(rgb, scale_factor=2.0, mode="bilinear", align_corners=False) + to_rgb(
                x, ws[:, 2 * i + 3]
            )
        return rgb.tanh()

    def forward(self, z: Tensor) -> Tensor:
        return self.synthesis(self.styles(z))
