"""The CycleGAN generator (Zhu et al. 2017, appendix 7.2; Johnson et al. 2016).

c7s1-64, d128, d256, R256 × n, u128, u64, c7s1-C: downsample twice, transform at 1/4
resolution with residual blocks, upsample back. Unlike the U-Net it has no skips across the
bottleneck, so it can change shape and texture (horse → zebra) and not only colour; its
convolutions are size-agnostic, so it runs on any image whose side divides by
``2^num_downsampling``. Reflection padding avoids border artifacts (Zhu et al. 2017, 7.2).
Blocks: 6 below 256 px and 9 from 256 px up, as the paper, when ``image_size`` is given;
without it, 9 (the reference code's ``resnet_9blocks``), since the network itself has no size.
Instance norm without affine parameters, as the reference; the convs before a norm have no
bias (the norm's mean subtraction would cancel it).
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.layers import normalization_layer

TranslatorNorm = Literal["instance", "batch"]
LARGE_IMAGES = 256  # Zhu et al. 2017, appendix 7.2: 6 blocks for 128 px, 9 for 256 px and up


def default_num_blocks(image_size: int | None) -> int:
    """Residual blocks for the training image size, as CycleGAN: 6 below 256 px, 9 from 256 px
    up, and 9 (the reference code's ``resnet_9blocks`` default) when the size is not given."""
    return 6 if image_size is not None and image_size < LARGE_IMAGES else 9


def _conv_norm_relu(c_in: int, c_out: int, kernel: int, norm: TranslatorNorm) -> list[nn.Module]:
    """c{kernel}s1-{c_out}: reflection pad, Conv, Norm, ReLU."""
    return [
        nn.ReflectionPad2d(kernel // 2),
        nn.Conv2d(c_in, c_out, kernel, bias=False),
        normalization_layer(norm, c_out),
        nn.ReLU(inplace=True),
    ]


class ResidualBlock(nn.Module):
    """Rk: x + [pad, Conv 3×3, Norm, ReLU, pad, Conv 3×3, Norm](x), no activation after the sum
    (Johnson et al. 2016, supplementary; He et al. 2016's identity path)."""

    def __init__(self, channels: int, norm: TranslatorNorm = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            *_conv_norm_relu(channels, channels, 3, norm),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            normalization_layer(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResNetTranslator(nn.Module):
    """Image-to-image generator with residual blocks at low resolution and tanh output.

    Args:
        in_channels: channels of the input domain.
        out_channels: channels of the output domain.
        base_width: channels of the first layer (64); each downsampling doubles them.
        num_blocks: residual blocks; ``None`` follows ``image_size`` as the paper does (6 below
            256 px, 9 from 256 px up: :func:`default_num_blocks`); a number wins.
        num_downsampling: stride-2 convs (2 in the paper); the input side must divide by 2^this.
        norm: ``instance`` (CycleGAN, after Ulyanov et al. 2016) or ``batch``.
        image_size: side of the training images, only to choose ``num_blocks``; the network
            itself runs on any size divisible by ``2^num_downsampling``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        base_width: int = 64,
        num_blocks: int | None = None,
        num_downsampling: int = 2,
        norm: TranslatorNorm = "instance",
        image_size: int | None = None,
    ) -> None:
        super().__init__()
        if num_blocks is None:
            num_blocks = default_num_blocks(image_size)
        if min(in_channels, out_channels, base_width) < 1 or num_blocks < 0 or num_downsampling < 0:
            raise ValueError(
                "in_channels, out_channels and base_width must be positive, num_blocks and num_downsampling >= 0."
            )
        if norm not in ("instance", "batch"):
            raise ValueError(f"ResNetTranslator norm must be 'instance' or 'batch', got {norm!r}.")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_downsampling = num_downsampling
        self.num_blocks = num_blocks
        layers = _conv_norm_relu(in_channels, base_width, 7, norm)
        width = base_width
        for _ in range(num_downsampling):  # dk: 3×3 stride-2 Conv-Norm-ReLU
            layers += [
                nn.Conv2d(width, 2 * width, 3, 2, 1, bias=False),
                normalization_layer(norm, 2 * width),
                nn.ReLU(inplace=True),
            ]
            width *= 2
        layers += [ResidualBlock(width, norm) for _ in range(num_blocks)]
        for _ in range(num_downsampling):  # uk: 3×3 stride-1/2 ConvT-Norm-ReLU
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=False),
                normalization_layer(norm, width // 2),
                nn.ReLU(inplace=True),
            ]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init)  # Zhu et al. 2017, appendix 7.2: weights ~ N(0, 0.02)

    def forward(self, x: Tensor) -> Tensor:
        factor = 2**self.num_downsampling
        if x.dim() != 4 or x.shape[1] != self.in_channels or x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(
                f"ResNetTranslator expects (B, {self.in_channels}, H, W) with H and W divisible by {factor}, "
                f"got {tuple(x.shape)}: set in_channels to the data's, and crop or pad the images."
            )
        return self.net(x)
