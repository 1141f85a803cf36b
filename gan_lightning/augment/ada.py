"""Adaptive discriminator augmentation (Karras et al. 2020, "Training Generative Adversarial
Networks with Limited Data", ADA).

With little data D memorises the training set and G's gradients degrade. ADA augments what
D sees -- real and fake alike, so G learns the clean distribution -- with every operation
applied to each sample independently with probability ``p`` (Sec. 2.2: an augmentation
applied with ``p < 1`` does not *leak* into the samples as long as the identity stays
the most likely outcome). ``p`` is not tuned but steered by an overfitting heuristic
(Sec. 3, Eq. 1): ``r_t = E[sign(D(x_train))]``, the share of training reals that D scores
as real, over the last ``interval`` discriminator updates. Above ``target`` (0.6) D is
overconfident and ``p`` rises; below, it falls; ``p`` can sweep 0 → 1 in ``speed_kimg``
thousand real images.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.distributed as dist
from torch import Tensor

from gan_lightning.augment.base import ScheduledAugment
from gan_lightning.augment.diffaugment import TRANSFORMS as DIFFAUGMENT_TRANSFORMS


def _per_sample(x: Tensor, values: Tensor) -> Tensor:
    """(B,) values as (B, 1, 1, 1), to broadcast over an image batch."""
    return values.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))


def xflip(x: Tensor) -> Tensor:
    """Mirror each image left-right with probability 1/2 (identity and flip equally likely)."""
    flip = torch.rand(x.shape[0], device=x.device) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)


def rotate90(x: Tensor) -> Tensor:
    """Rotate each square image by a uniformly drawn multiple of 90° (0° included)."""
    if x.shape[2] != x.shape[3]:
        raise ValueError(f"rotate90 needs square images, got {x.shape[2]}×{x.shape[3]}: drop it from the policy.")
    turns = torch.randint(0, 4, (x.shape[0], 1, 1, 1), device=x.device)
    out = x
    for k in (1, 2, 3):
        out = torch.where(turns == k, torch.rot90(x, k, dims=(2, 3)), out)
    return out


def _reflect(index: Tensor, size: int) -> Tensor:
    """Mirror out-of-range indices back into [0, size) (reflection without edge repeat)."""
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index >= size, period - index, index)


def integer_translate(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each image by a whole number of pixels, up to ``ratio`` of its size in x and y,
    filling the border by reflection: unlike zero fill, the border does not give the shift away."""
    batch, channels, height, width = x.shape
    max_dy, max_dx = round(height * ratio), round(width * ratio)
    dy = torch.randint(-max_dy, max_dy + 1, (batch, 1, 1), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (batch, 1, 1), device=x.device)
    rows = _reflect(torch.arange(height, device=x.device).view(1, height, 1) - dy, height)
    cols = _reflect(torch.arange(width, device=x.device).view(1, 1, width) - dx, width)
    flat_index = (rows * width + cols).view(batch, 1, height * width).expand(-1, channels, -1)
    return x.flatten(start_dim=2).gather(2, flat_index).view_as(x)


def brightness(x: Tensor, std: float = 0.2) -> Tensor:
    """Add N(0, std²) to every pixel of an image (one draw per image)."""
    return x + _per_sample(x, torch.randn(x.shape[0], device=x.device) * std)


def contrast(x: Tensor, log2_std: float = 0.5) -> Tensor:
    """Scale each image's deviation from its mean by 2^N(0, log2_std²) (log-normal, so
    halving and doubling are equally likely)."""
    factor = _per_sample(x, torch.exp2(torch.randn(x.shape[0], device=x.device) * log2_std))
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * factor + mean


def saturation(x: Tensor, log2_std: float = 1.0) -> Tensor:
    """Scale each pixel's deviation from its grey value (channel mean) by 2^N(0, log2_std²);
    the identity on one-channel images."""
    factor = _per_sample(x, torch.exp2(torch.randn(x.shape[0], device=x.device) * log2_std))
    grey = x.mean(dim=1, keepdim=True)
    return (x - grey) * factor + grey


OPERATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "xflip": xflip,
    "rotate90": rotate90,
    "xint": integer_translate,
    "brightness": brightness,
    "contrast": contrast,
    "saturation": saturation,
    **DIFFAUGMENT_TRANSFORMS,  # color, translation (zero fill), cutout
}

DEFAULT_POLICY = ("xflip", "rotate90", "xint", "brightness", "contrast", "saturation")


def _all_reduce_sum(values: Tensor) -> Tensor:
    """Sum over processes when running distributed; the identity otherwise."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


class AdaptiveAugment(ScheduledAugment):
    """ADA: the operations in ``policy`` applied in order, each to each sample independently
    with probability ``p``, which adapts to D's overfitting.

    Args:
        policy: operation names, applied in the order given: ADA's cheap, differentiable
            ones -- ``xflip``, ``rotate90``, ``xint`` (integer translation, reflected border),
            ``brightness``, ``contrast``, ``saturation`` -- and DiffAugment's ``color``,
            ``translation``, ``cutout``. The default is ADA's "blit" and colour groups
            (Karras et al. 2020, Sec. 3) without the RGB-only luma flip and hue rotation.
        p: initial probability (ADA starts at 0).
        target: the value of ``r_t`` to hold (the paper's 0.6); ``None`` keeps ``p`` fixed.
        interval: discriminator updates between adjustments (the paper's 4).
        speed_kimg: thousands of real images over which ``p`` can move from 0 to 1 (the
            paper's 500; lower it for short runs).

    ``p``, the last ``r_t`` and the running sums are buffers, so they are in every
    checkpoint and a resumed run continues exactly. Under DDP the sums are all-reduced at
    every update, so all ranks hold the same ``p``. The identity in eval mode.
    """

    def __init__(
        self,
        policy: Sequence[str] = DEFAULT_POLICY,
        p: float = 0.0,
        target: float | None = 0.6,
        interval: int = 4,
        speed_kimg: float = 500.0,
    ) -> None:
        super().__init__()
        if isinstance(policy, str):
            raise ValueError(f"policy must be a list of operation names, got the string {policy!r}.")
        unknown = [name for name in policy if name not in OPERATIONS]
        if unknown:
            raise ValueError(f"Unknown ADA operation(s) {unknown}: choose from {sorted(OPERATIONS)}.")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}.")
        if target is not None and not 0.0 <= target < 1.0:
            raise ValueError(f"target must be in [0, 1) (the paper's 0.6) or null for a fixed p, got {target}.")
        if interval < 1:
            raise ValueError(f"interval must be >= 1 discriminator update, got {interval}.")
        if not speed_kimg > 0:
            raise ValueError(f"speed_kimg must be positive (the paper's 500), got {speed_kimg}.")
        self.policy = list(policy)
        self.target = target
        self.interval = interval
        self.speed_kimg = speed_kimg
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("rt", torch.tensor(math.nan))  # r_t of the last finished interval
        self.register_buffer("sign_sum", torch.tensor(0.0))  # Σ sign(D(x)) over this interval
        self.register_buffer("num_real", torch.tensor(0.0))  # real images scored in this interval
        self.register_buffer("num_updates", torch.tensor(0, dtype=torch.long))  # D updates in this interval

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4:
            raise ValueError(
                f"AdaptiveAugment transforms images (B, C, H, W), got shape {tuple(x.shape)}; for flat or 2D data "
                "use InstanceNoise instead."
            )
        if not self.training:
            return x
        for name in self.policy:
            apply = torch.rand(x.shape[0], device=x.device) < self.p
            x = torch.where(apply.view(-1, 1, 1, 1), OPERATIONS[name](x), x)
        return x.contiguous()

    @torch.no_grad()
    def observe_real_logits(self, logits: Tensor) -> None:
        """Accumulate ``sign(D(x))`` of one real batch; every ``interval`` calls, move ``p``
        by ``sign(r_t - target) · images / (speed_kimg · 1000)`` (Karras et al. 2020, Sec. 3).

        Written with tensor operations only (no ``.item()``), so it never stalls a GPU.
        """
        if logits.dim() == 0 or logits.shape[0] == 0:
            raise ValueError(f"observe_real_logits needs one score per real sample, got shape {tuple(logits.shape)}.")
        # One value per image (a patch discriminator's scores are averaged), so the speed counts images.
        signs = logits.detach().float().reshape(logits.shape[0], -1).sign().mean(dim=1)
        batch = torch.stack([signs.sum(), torch.tensor(float(signs.shape[0]), device=signs.device)])
        batch = _all_reduce_sum(batch).to(self.sign_sum.device)
        self.sign_sum += batch[0]
        self.num_real += batch[1]
        self.num_updates += 1
        due = self.num_updates >= self.interval
        rt = self.sign_sum / self.num_real
        self.rt.copy_(torch.where(due, rt, self.rt))
        if self.target is not None:
            step = torch.sign(rt - self.target) * self.num_real / (self.speed_kimg * 1000.0)
            self.p.copy_(torch.where(due, (self.p + step).clamp(0.0, 1.0), self.p))
        for accumulator in (self.sign_sum, self.num_real, self.num_updates):
            accumulator.masked_fill_(due, 0)

    def stats(self) -> dict[str, Tensor]:
        """``ada_p`` (the current probability) and ``ada_rt`` (r_t of the last finished
        interval; NaN before the first), for logging."""
        return {"ada_p": self.p.detach().clone(), "ada_rt": self.rt.detach().clone()}

    def extra_repr(self) -> str:
        return f"policy={self.policy}, target={self.target}, interval={self.interval}, speed_kimg={self.speed_kimg}"
