"""The PatchGAN discriminator (Isola et al. 2017, Sec. 3.2.2): one logit per image patch.

D classifies each N×N patch as real or fake and the loss averages over patches: L1/L2
losses already capture low frequencies, so D only needs to model local texture, with fewer
parameters, on any image size. Conditioning (pix2pix) is the caller's: it concatenates
(source, image) along channels, so ``in_channels = Cs + Ct``; CycleGAN uses it
unconditionally (``in_channels = C``).

Both papers use the 70×70 PatchGAN (3 stride-2 layers), CycleGAN at 128 px and pix2pix at
256 px, and the reference code at every size; :func:`choose_num_layers` gives it from
128 px up. Deliberately, smaller images (which the papers never train on) get fewer layers,
so that the field stays a patch rather than the whole zero-padded image: 16 px up to 32 px,
34 px at 64 px.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.layers import normalization_layer

PatchNorm = Literal["batch", "instance", "none"]
KERNEL = 4
MIN_OUTPUT = 2  # the smallest logit map the automatic choice accepts: a grid of patches, not one logit
PAPER_LAYERS = 3  # junyanz/pytorch-CycleGAN-and-pix2pix's n_layers=3: the 70×70 PatchGAN
PAPER_FIELD_SHARE = 70 / 128  # CycleGAN's 70-px field on its 128-px images


def patch_receptive_field(num_layers: int) -> int:
    """Side of the input patch one output logit sees: 9·2^n − 2 (16, 34, 70, 142, 286 px).

    ``num_layers`` stride-2 4×4 convs then two stride-1 4×4 convs; walking back from one
    output pixel, each conv maps a field r to (r − 1)·stride + 4, so 1 → 4 → 7 and each
    stride-2 layer 2r + 2 (3 layers: 16, 34, 70 — the paper's 70×70 PatchGAN).
    """
    if num_layers < 1:
        raise ValueError(f"num_layers must be >= 1, got {num_layers}.")
    return 9 * 2**num_layers - 2


def patch_output_size(image_size: int, num_layers: int) -> int:
    """Side of the logit map: each stride-2 conv floors the size by half, each stride-1 conv takes 1."""
    size = image_size
    for _ in range(num_layers):
        size //= 2
    return size - 2


def choose_num_layers(image_size: int) -> int:
    """The reference's 3 stride-2 layers (``n_layers=3``, the 70×70 PatchGAN of both papers:
    pix2pix at 256 px, CycleGAN at 128 px) from 128 px up; on smaller images the most layers
    whose field stays within the share of the image CycleGAN's 70 px take of 128 px (≈ 0.55),
    among those with a logit map of at least 2×2 (patches, not one logit for the whole image),
    one layer at the least. Receptive field per size: 8-32 px → 16 px (1 layer; a 14×14 map at
    32 px), 64 → 34 (2), 128, 256, 512 … → 70 (3)."""
    candidates = [n for n in range(1, PAPER_LAYERS + 1) if patch_output_size(image_size, n) >= MIN_OUTPUT]
    if not candidates:
        raise ValueError(
            f"PatchDiscriminator needs images of at least 8 px (one stride-2 layer and a 2x2 logit map), "
            f"got image_size {image_size}."
        )
    fitting = [n for n in candidates if patch_receptive_field(n) <= image_size * PAPER_FIELD_SHARE]
    return max(fitting, default=candidates[0])


class PatchDiscriminator(nn.Module):
    """C64-C128-C256-C512 PatchGAN: Conv 4×4 (stride 2 ×``num_layers``, then stride 1)-Norm-
    LeakyReLU(0.2), no norm on the first layer, a final 4×4 conv to one logit per patch.

    Output ``(B, 1, h, w)`` raw logits, ``h = H / 2^num_layers − 2`` (30×30 for 256 px and 3
    layers). Widths double from ``base_width`` up to 8× (512).

    Args:
        in_channels: channels of what D sees (``Cs + Ct`` for a conditional D).
        base_width: channels of the first layer (64 in the paper).
        num_layers: stride-2 layers (3 = 70×70 patches); ``None`` chooses it from ``image_size``
            by :func:`choose_num_layers` (3 from 128 px up, fewer on smaller images).
        image_size: side of the square input; required when ``num_layers`` is ``None``.
        norm: ``batch`` (pix2pix), ``instance`` (CycleGAN) or ``none``.
        spectral: spectral normalization (Miyato et al. 2018) of every conv.
    """

    def __init__(
        self,
        in_channels: int,
        base_width: int = 64,
        num_layers: int | None = None,
        image_size: int | None = None,
        norm: PatchNorm = "batch",
        spectral: bool = False,
    ) -> None:
        super().__init__()
        if in_channels < 1 or base_width < 1:
            raise ValueError("in_channels and base_width must be positive integers.")
        if norm not in ("batch", "instance", "none"):
            raise ValueError(f"PatchDiscriminator norm must be 'batch', 'instance' or 'none', got {norm!r}.")
        if num_layers is None:
            if image_size is None:
                raise ValueError("PatchDiscriminator needs num_layers or image_size (to choose num_layers from).")
            num_layers = choose_num_layers(image_size)
        patch_receptive_field(num_layers)  # validates num_layers
        self.in_channels = in_channels
        self.num_layers = num_layers
        self.receptive_field = patch_receptive_field(num_layers)
        widths = [base_width * min(2**i, 8) for i in range(num_layers + 1)]
        layers: list[nn.Module] = [self._conv(in_channels, widths[0], 2, bias=True), nn.LeakyReLU(0.2, inplace=True)]
        for i in range(1, num_layers + 1):
            stride = 2 if i < num_layers else 1
            layers += [
                self._conv(widths[i - 1], widths[i], stride, bias=norm == "none"),
                normalization_layer(norm, widths[i]),
                nn.LeakyReLU(0.2, inplace=True),
            ]
        layers.append(self._conv(widths[-1], 1, 1, bias=True))
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)  # Isola et al. 2017, appendix 6.2; Zhu et al. 2017, Sec. 7.2
        if spectral:  # after the init: a parametrized weight is recomputed, not written
            for conv in self.net:
                if isinstance(conv, nn.Conv2d):
                    spectral_norm(conv)

    @staticmethod
    def _conv(c_in: int, c_out: int, stride: int, bias: bool) -> nn.Conv2d:
        return nn.Conv2d(c_in, c_out, KERNEL, stride, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"PatchDiscriminator expects (B, {self.in_channels}, H, W) but got {tuple(x.shape)}: a conditional "
                "D takes torch.cat([source, image], dim=1), so in_channels = source + image channels."
            )
        if min(patch_output_size(x.shape[-2], self.num_layers), patch_output_size(x.shape[-1], self.num_layers)) < 1:
            raise ValueError(
                f"PatchDiscriminator with {self.num_layers} layers needs images of at least "
                f"{3 * 2**self.num_layers} px, got {tuple(x.shape[-2:])}: use fewer layers (num_layers)."
            )
        return self.net(x)
