"""ADA's geometric group (Karras et al. 2020, "Training Generative Adversarial Networks with
Limited Data", Appendix B): isotropic scaling, arbitrary rotation, anisotropic scaling and
fractional translation.

All of them are composed into one affine map per sample and executed as *one* bilinear
resampling (``grid_sample``), so an image is interpolated once however many of them apply,
and G's gradient flows through the resampling to every pixel it read. The border is filled
by reflection about the edge pixels' centres (as stylegan2-ada-pytorch's ``reflect`` pad and
the blit group's integer translation here): unlike zeros, the border does not tell D that a
sample was moved.

Coordinates are pixels measured from the image centre, x to the right, y down. A matrix is
the *forward* map: it sends a point of the input image to where it lands in the output. The
warp samples the input at the inverse image of every output pixel's centre.

Deviation from stylegan2-ada-pytorch: it resamples at twice the resolution between two
sym6 wavelet low-pass filters, which suppresses aliasing when an image is shrunk or rotated;
here the resampling is plain bilinear at the image's own resolution (cheaper, and what
small images such as 28-px digits need). Bilinear interpolation blurs a fractional shift
slightly; samples that no geometric operation touched are returned bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import torch
import torch.nn.functional as F
from torch import Tensor

GEOMETRIC_OPERATIONS = ("scale", "rotate", "aniso", "xfrac")
SCALE_LOG2_STD = 0.2  # isotropic scaling: 2^N(0, 0.2²)
ANISO_LOG2_STD = 0.2  # anisotropic scaling: x by 2^N(0, 0.2²), y by its inverse
XFRAC_STD = 0.125  # fractional translation: N(0, 0.125²) of the image size on each axis


def _affine(a: Tensor, b: Tensor, c: Tensor, d: Tensor, tx: Tensor, ty: Tensor) -> Tensor:
    """(B, 3, 3) homogeneous matrices [[a, b, tx], [c, d, ty], [0, 0, 1]] from (B,) entries."""
    zero, one = torch.zeros_like(a), torch.ones_like(a)
    rows = [torch.stack(row, dim=-1) for row in ((a, b, tx), (c, d, ty), (zero, zero, one))]
    return torch.stack(rows, dim=-2)


def scale_matrix(sx: Tensor, sy: Tensor) -> Tensor:
    """Scale x by ``sx`` and y by ``sy`` about the image centre."""
    zero = torch.zeros_like(sx)
    return _affine(sx, zero, zero, sy, zero, zero)


def rotation_matrix(theta: Tensor) -> Tensor:
    """Rotate by ``theta`` radians about the image centre; with y pointing down, a positive
    angle turns the image clockwise on screen (a quarter turn is ``torch.rot90(x, -1, (2, 3))``)."""
    cos, sin, zero = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)
    return _affine(cos, -sin, sin, cos, zero, zero)


def translation_matrix(tx: Tensor, ty: Tensor) -> Tensor:
    """Move by ``tx`` pixels right and ``ty`` pixels down."""
    zero, one = torch.zeros_like(tx), torch.ones_like(tx)
    return _affine(one, zero, zero, one, tx, ty)


def _gate(values: Tensor, identity: float, p: Tensor | float) -> Tensor:
    """Keep each sample's drawn value with probability ``p``, else the identity's value.
    The coin is drawn after the values, one per sample."""
    apply = torch.rand(values.shape[0], device=values.device) < p
    return torch.where(apply.view(-1, *([1] * (values.dim() - 1))), values, torch.full_like(values, identity))


def draw_geometric(
    operations: Collection[str], p: Tensor | float, batch: int, height: int, width: int, device: torch.device
) -> Tensor:
    """Forward matrices (B, 3, 3) of the geometric ``operations``, each applied to each sample
    independently with probability ``p``, composed in the paper's order whatever the order of
    ``operations``: scale, rotate, aniso, rotate, xfrac.

    Rotation is drawn twice, before and after the anisotropic stretch (so the stretch has an
    arbitrary axis), each time with probability ``1 - sqrt(1 - p)``: the image is rotated at
    all with probability ``p``, like every other operation, and the angle is uniform on the
    circle (as stylegan2-ada-pytorch's ``p_rot``). Random numbers are drawn for every sample
    at every ``p``, so ``p`` never shifts the random stream of what follows.
    """
    unknown = set(operations) - set(GEOMETRIC_OPERATIONS)
    if unknown:
        raise ValueError(f"Unknown geometric operation(s) {sorted(unknown)}: choose from {GEOMETRIC_OPERATIONS}.")
    p = torch.as_tensor(p, dtype=torch.float32, device=device)
    p_rotate = 1.0 - torch.sqrt((1.0 - p).clamp(min=0.0))
    matrix = torch.eye(3, device=device).expand(batch, 3, 3)

    def rotate() -> Tensor:
        return rotation_matrix(_gate((torch.rand(batch, device=device) * 2 - 1) * math.pi, 0.0, p_rotate))

    if "scale" in operations:
        s = _gate(torch.exp2(torch.randn(batch, device=device) * SCALE_LOG2_STD), 1.0, p)
        matrix = scale_matrix(s, s) @ matrix
    if "rotate" in operations:
        matrix = rotate() @ matrix
    if "aniso" in operations:
        s = _gate(torch.exp2(torch.randn(batch, device=device) * ANISO_LOG2_STD), 1.0, p)
        matrix = scale_matrix(s, 1.0 / s) @ matrix
    if "rotate" in operations:
        matrix = rotate() @ matrix
    if "xfrac" in operations:
        size = torch.tensor([width, height], dtype=torch.float32, device=device)
        t = _gate(torch.randn(batch, 2, device=device) * XFRAC_STD * size, 0.0, p)
        matrix = translation_matrix(t[:, 0], t[:, 1]) @ matrix
    return matrix


def warp(x: Tensor, matrix: Tensor) -> Tensor:
    """Resample images (B, C, H, W) under forward pixel-space matrices (B, 3, 3): bilinear,
    reflected border, computed in float32 and returned in ``x``'s dtype."""
    batch, channels, height, width = x.shape
    # grid_sample's unit square with align_corners=True: ±1 are the corner pixels' centres.
    to_unit = torch.diag(torch.tensor([2 / max(width - 1, 1), 2 / max(height - 1, 1), 1.0], device=x.device))
    with torch.autocast(x.device.type, enabled=False):
        inverse = torch.linalg.inv_ex(matrix.float()).inverse  # output pixel -> input pixel
        theta = (to_unit @ inverse @ torch.linalg.inv(to_unit))[:, :2]
        grid = F.affine_grid(theta, [batch, channels, height, width], align_corners=True)
        out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=True)
    return out.to(x.dtype)


def geometric(x: Tensor, p: Tensor | float, operations: Collection[str]) -> Tensor:
    """The geometric ``operations`` as one warp per sample; samples that drew the identity
    are returned bit for bit."""
    matrix = draw_geometric(operations, p, x.shape[0], x.shape[2], x.shape[3], x.device)
    moved = (matrix != torch.eye(3, device=x.device)).flatten(start_dim=1).any(dim=1)
    return torch.where(moved.view(-1, 1, 1, 1), warp(x, matrix), x)
