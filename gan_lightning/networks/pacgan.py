"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

Seeing m samples jointly, D can notice that fakes lack diversity (a collapsed generator
makes packs of near-identical samples), which penalises mode collapse (PacGAN Sec. 3).
"""

from __future__ import annotations

from torch import Tensor, nn


class PackedDiscriminator(nn.Module):
    """Wraps ``discriminator`` so it scores packs of ``pack`` consecutive samples.

    A batch (B, C, ...) becomes (B/pack, pack·C, ...): the packed samples are concatenated
    along the first feature axis (channels for images, coordinates for flat data), so the
    inner discriminator must take ``pack`` times the data's channels (an MLP on 2D points:
    ``data_shape: [2·pack]``). One score per pack is returned; all losses are means, so
    they need no change. The batch size must be a multiple of ``pack``.
    """

    def __init__(self, discriminator: nn.Module, pack: int = 2) -> None:
        super().__init__()
        if pack < 1:
            raise ValueError(f"pack must be >= 1 (PacGAN uses 2-4), got {pack}.")
        if getattr(discriminator, "num_classes", 0):
            raise ValueError("PackedDiscriminator wraps unconditional discriminators only (num_classes must be 0).")
        self.discriminator = discriminator
        self.pack = pack

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        if batch % self.pack:
            raise ValueError(
                f"PackedDiscriminator(pack={self.pack}) got a batch of {batch} samples: use a batch size "
                f"(and validation set size) that is a multiple of {self.pack}."
            )
        packed = x.reshape(batch // self.pack, self.pack * x.shape[1], *x.shape[2:])
        return self.discriminator(packed)
