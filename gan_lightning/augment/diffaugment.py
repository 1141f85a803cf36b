"""Differentiable Augmentation (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training", Sec. 3).

The same random, differentiable transforms are applied to real and generated images
before D (the GAN module's ``augment`` does that), so D cannot memorise a small data set
and G still receives gradients through the transform. Each sample draws its own parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


def adjust_color(x: Tensor) -> Tensor:
    """Random brightness (± 0.5), saturation (× [0, 2]) and contrast (× [0.5, 1.5])."""
    shape = (x.shape[0], 1, 1, 1)
    x = x + (torch.rand(shape, device=x.device, dtype=x.dtype) - 0.5)
    channel_mean = x.mean(dim=1, keepdim=True)
    x = (x - channel_mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) * 2.0) + channel_mean
    image_mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - image_mean) * (torch.rand(shape, device=x.device, dtype=x.dtype) + 0.5) + image_mean


def translate(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by up to ``ratio`` of its size in x and y, filling with zeros."""
    batch, _, height, width = x.shape
    max_dy, max_dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (batch, 1, 1), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device).view(1, height, 1) - dy  # source row of each output row
    cols = torch.arange(width, device=x.device).view(1, 1, width) - dx
    inside = ((rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)).unsqueeze(1)
    rows, cols = rows.clamp(0, height - 1), cols.clamp(0, width - 1)
    flat_index = (rows * width + cols).view(batch, 1, height * width).expand(-1, x.shape[1], -1)
    shifted = x.flatten(start_dim=2).gather(2, flat_index).view_as(x)
    return shifted * inside.to(x.dtype)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero one random square of side ``ratio`` · size per image (its centre may lie
    anywhere, so the square can be clipped at the border)."""
    batch, _, height, width = x.shape
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    cy = torch.randint(0, height + (1 - cut_h % 2), (batch, 1, 1), device=x.device)
    cx = torch.randint(0, width + (1 - cut_w % 2), (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device).view(1, height, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, width)
    in_cut = (rows >= cy - cut_h // 2) & (rows < cy - cut_h // 2 + cut_h)
    in_cut = in_cut & (cols >= cx - cut_w // 2) & (cols < cx - cut_w // 2 + cut_w)
    return x * (~in_cut).unsqueeze(1).to(x.dtype)


TRANSFORMS = {"color": adjust_color, "translation": translate, "cutout": cutout}


class DiffAugment(nn.Module):
    """Applies the transforms named in ``policy`` (a subset of color, translation, cutout,
    in that order) to images (B, C, H, W). The paper's default for small data is all three.
    ``translation_ratio``: the largest shift, as a share of the image's size (the paper: 1/8).

    Active in training mode only; ``model.eval()`` turns it into the identity.
    """

    def __init__(
        self, policy: Sequence[str] = ("color", "translation", "cutout"), translation_ratio: float = 0.125
    ) -> None:
        super().__init__()
        unknown = [name for name in policy if name not in TRANSFORMS]
        if unknown:
            raise ValueError(f"Unknown DiffAugment transform(s) {unknown}: choose from {sorted(TRANSFORMS)}.")
        if not 0 <= translation_ratio < 0.5:
            raise ValueError(f"translation_ratio is a share of the image's size in [0, 0.5), got {translation_ratio}.")
        self.policy = list(policy)
        self.translation_ratio = translation_ratio

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"DiffAugment transforms images (B, C, H, W), got shape {tuple(x.shape)}; for flat or 2D data "
                "use InstanceNoise instead."
            )
        if not self.training:
            return x
        for name in self.policy:
            x = translate(x, self.translation_ratio) if name == "translation" else TRANSFORMS[name](x)
        return x.contiguous()

    def extra_repr(self) -> str:
        return f"policy={self.policy}, translation_ratio={self.translation_ratio}"
