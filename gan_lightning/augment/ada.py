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

``sign(D(x))`` reads D's score against its decision boundary, which is 0 only for a
logistic D. Here the sign is taken around the boundary of the objective D was trained with
(:func:`boundary_rule`): 0 for the logistic losses and the hinge loss, 0.5 for least
squares (targets 0 and 1), and, for a Wasserstein critic -- whose scores carry an
arbitrary offset -- the midpoint of the same update's mean real and mean fake scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
import torch.distributed as dist
from torch import Tensor

from gan_lightning.augment.base import ScheduledAugment
from gan_lightning.augment.diffaugment import TRANSFORMS as DIFFAUGMENT_TRANSFORMS
from gan_lightning.augment.geometric import GEOMETRIC_OPERATIONS, geometric

Boundary = float | Literal["midpoint"]


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


MID_GREY = 0.0  # data are in [-1, 1]: colour operations pivot on mid-grey, as stylegan2-ada-pytorch's


def brightness(x: Tensor, std: float = 0.2) -> Tensor:
    """Add N(0, std²) to every pixel of an image (one draw per image)."""
    return x + _per_sample(x, torch.randn(x.shape[0], device=x.device) * std)


def contrast(x: Tensor, log2_std: float = 0.5) -> Tensor:
    """Scale each image's deviation from mid-grey by 2^N(0, log2_std²) (log-normal, so
    halving and doubling are equally likely). The pivot is fixed, as in stylegan2-ada-pytorch
    (its colour matrix scales around 0, the mid-grey of [-1, 1] data), not each image's mean:
    a pivot drawn from the image would make the operation depend on content."""
    factor = _per_sample(x, torch.exp2(torch.randn(x.shape[0], device=x.device) * log2_std))
    return (x - MID_GREY) * factor + MID_GREY


def lumaflip(x: Tensor) -> Tensor:
    """Reflect each image's luma (its channel mean) about mid-grey with probability 1/2 (the
    Householder reflection along the grey axis of ADA's colour group); on one-channel images
    a negative, x → -x."""
    flip = _per_sample(x, (torch.rand(x.shape[0], device=x.device) < 0.5).float())
    return x - 2.0 * flip * (x.mean(dim=1, keepdim=True) - MID_GREY)


def hue_rotation(x: Tensor, theta: Tensor) -> Tensor:
    """Rotate RGB colours (B, 3, H, W) by ``theta`` (B,) radians about the grey axis
    v = (1, 1, 1)/√3 (Rodrigues: c cos θ + (v × c) sin θ + v (v·c)(1 - cos θ)); a third of a
    turn moves red to green, green to blue, blue to red."""
    cos, sin = _per_sample(x, torch.cos(theta)), _per_sample(x, torch.sin(theta))
    red, green, blue = x.unbind(dim=1)
    cross = torch.stack([blue - green, red - blue, green - red], dim=1) / math.sqrt(3.0)
    grey = (x - MID_GREY).mean(dim=1, keepdim=True)
    return MID_GREY + (x - MID_GREY) * cos + cross * sin + grey * (1.0 - cos)


def hue(x: Tensor) -> Tensor:
    """Rotate each RGB image's hue by an angle uniform on the circle; the identity on
    one-channel images."""
    theta = (torch.rand(x.shape[0], device=x.device) * 2 - 1) * math.pi
    if x.shape[1] == 1:
        return x
    if x.shape[1] != 3:
        raise ValueError(f"hue rotates RGB colours, got {x.shape[1]} channels: drop hue from the policy.")
    return hue_rotation(x, theta)


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
    "lumaflip": lumaflip,
    "hue": hue,
    "saturation": saturation,
    **DIFFAUGMENT_TRANSFORMS,  # color, translation (zero fill), cutout
}
"""Operations applied image by image, each behind its own per-sample coin."""

OPERATION_NAMES = (*OPERATIONS, *GEOMETRIC_OPERATIONS)

BLIT = ("xflip", "rotate90", "xint")
COLOUR = ("brightness", "contrast", "lumaflip", "hue", "saturation")
POLICIES: dict[str, tuple[str, ...]] = {
    "blit": BLIT,
    "geom": GEOMETRIC_OPERATIONS,
    "bg": BLIT + GEOMETRIC_OPERATIONS,
    "bgc": BLIT + GEOMETRIC_OPERATIONS + COLOUR,
    # bgc without what turns a digit into another digit or none: mirror images, quarter
    # turns and full-circle rotation (a 6 turned half way is a 9).
    "digits": ("xint", "scale", "aniso", "xfrac", *COLOUR),
}
"""Named policies: ADA's groups (Karras et al. 2020, Sec. 3, Fig. 4) and one for digits."""

DEFAULT_POLICY = "bgc"


def resolve_policy(policy: str | Sequence[str]) -> list[str]:
    """A named policy (:data:`POLICIES`) or a list of operation names, checked."""
    if isinstance(policy, str):
        if policy not in POLICIES:
            raise ValueError(
                f"Unknown ADA policy {policy!r}: name one of {sorted(POLICIES)} or list operations, e.g. [{policy}]."
            )
        return list(POLICIES[policy])
    unknown = [name for name in policy if name not in OPERATION_NAMES]
    if unknown:
        raise ValueError(f"Unknown ADA operation(s) {unknown}: choose from {sorted(OPERATION_NAMES)}.")
    return list(policy)


def stages(policy: Sequence[str]) -> list[str | tuple[str, ...]]:
    """The policy as the steps the pipeline runs: each image-by-image operation alone, each
    run of consecutive geometric operations as one tuple (one warp)."""
    steps: list[str | tuple[str, ...]] = []
    for name in policy:
        if name not in GEOMETRIC_OPERATIONS:
            steps.append(name)
        elif steps and isinstance(steps[-1], tuple):
            steps[-1] = (*steps[-1], name)
        else:
            steps.append((name,))
    return steps


def boundary_rule(objective: Any) -> Boundary:
    """Where ``objective``'s discriminator separates real from fake: its ``decision_boundary``
    (:class:`~gan_lightning.objectives.AdversarialObjective`) -- the score at which the optimal D
    is indifferent (p_data = p_g), or ``"midpoint"`` for a critic, which has none.

    Logistic losses: logit 0. Hinge: 0, between the margins ±1. Least squares with targets
    0 and 1: D* = p_data / (p_data + p_g) = 0.5. Wasserstein: the critic's scores are defined
    up to an added constant, so no fixed number can be the boundary; the midpoint of the mean
    real and mean fake score of the same update moves with the offset, and for score
    distributions of equal spread it sits where the logistic boundary would, so the same
    ``target`` means the same separation.
    """
    boundary = objective.decision_boundary
    if boundary is None:
        raise ValueError(
            f"ADA's overfitting heuristic does not know {type(objective).__name__}'s decision boundary: set the "
            "augment's boundary (the score between the real and fake targets, or midpoint for a critic), or the "
            "objective's decision_boundary."
        )
    return boundary


def _check_scores(logits: Tensor) -> None:
    if logits.dim() == 0 or logits.shape[0] == 0:
        raise ValueError(f"ADA needs one score per real sample, got shape {tuple(logits.shape)}.")


def _per_image(logits: Tensor) -> Tensor:
    """One row of scores per image (a patch discriminator has several), as float32."""
    return logits.detach().float().reshape(logits.shape[0], -1)


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
        policy: a named policy -- ``"bgc"`` (the default: blit, geometric and colour groups,
            Karras et al. 2020, Sec. 3), ``"bg"``, ``"blit"``, ``"geom"``, ``"digits"`` (bgc
            without xflip, rotate90 and rotate, which turn a digit into another or none) --
            or a list of operation names, applied in the order given. Blit: ``xflip``,
            ``rotate90``, ``xint`` (integer translation, reflected border). Geometric:
            ``scale``, ``rotate``, ``aniso``, ``xfrac``; a run of consecutive geometric
            names is one warp, in the paper's order (see
            :func:`~gan_lightning.augment.geometric.draw_geometric`). Colour:
            ``brightness``, ``contrast``, ``lumaflip``, ``hue``, ``saturation``. Also
            DiffAugment's ``color``, ``translation``, ``cutout``.
        p: initial probability (ADA starts at 0).
        target: the value of ``r_t`` to hold (the paper's 0.6); ``None`` keeps ``p`` fixed.
        interval: discriminator updates between adjustments (the paper's 4).
        speed_kimg: thousands of real images over which ``p`` can move from 0 to 1 (the
            paper's 500; lower it for short runs).
        boundary: the score around which ``sign(D(x))`` is taken; ``None`` (default) reads
            it from the objective (:func:`boundary_rule`), a number fixes it, ``"midpoint"``
            takes the middle of each update's mean real and mean fake score.

    ``p``, the last ``r_t`` and the running sums are buffers, so they are in every
    checkpoint and a resumed run continues exactly. Under DDP the sums are all-reduced at
    every update, so all ranks hold the same ``p``. The identity in eval mode.
    """

    def __init__(
        self,
        policy: str | Sequence[str] = DEFAULT_POLICY,
        p: float = 0.0,
        target: float | None = 0.6,
        interval: int = 4,
        speed_kimg: float = 500.0,
        boundary: Boundary | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1], got {p}.")
        if target is not None and not 0.0 <= target < 1.0:
            raise ValueError(f"target must be in [0, 1) (the paper's 0.6) or null for a fixed p, got {target}.")
        if interval < 1:
            raise ValueError(f"interval must be >= 1 discriminator update, got {interval}.")
        if not speed_kimg > 0:
            raise ValueError(f"speed_kimg must be positive (the paper's 500), got {speed_kimg}.")
        if isinstance(boundary, str) and boundary != "midpoint":
            raise ValueError(f"boundary must be a number, midpoint or null (from the objective), got {boundary!r}.")
        self.policy = resolve_policy(policy)
        self.stages = stages(self.policy)
        self.target = target
        self.interval = interval
        self.speed_kimg = speed_kimg
        self.boundary = boundary
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("rt", torch.tensor(math.nan))  # r_t of the last finished interval
        self.register_buffer("sign_sum", torch.tensor(0.0))  # Σ sign(D(x) - boundary) over this interval
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
        for stage in self.stages:
            if isinstance(stage, tuple):
                x = geometric(x, self.p, stage)
            else:
                apply = torch.rand(x.shape[0], device=x.device) < self.p
                x = torch.where(apply.view(-1, 1, 1, 1), OPERATIONS[stage](x), x)
        return x.contiguous()

    @torch.no_grad()
    def observe_discriminator(self, objective: Any, real_logits: Tensor, fake_logits: Tensor) -> None:
        """Accumulate ``sign(D(x) - boundary)`` of one real batch, the boundary being
        ``objective``'s (or the one set); every ``interval`` calls, move ``p``
        (:meth:`observe_real_logits`). Called by the GAN module once per D update."""
        _check_scores(real_logits)
        rule = boundary_rule(objective) if self.boundary is None else self.boundary
        self._accumulate(real_logits, self._threshold(rule, real_logits, fake_logits))

    @torch.no_grad()
    def observe_real_logits(self, logits: Tensor) -> None:
        """Accumulate ``sign(D(x) - boundary)`` of one real batch, the boundary being 0 (a
        logistic or hinge D) unless a number is set; every ``interval`` calls, move ``p`` by
        ``sign(r_t - target) · images / (speed_kimg · 1000)`` (Karras et al. 2020, Sec. 3).

        Written with tensor operations only (no ``.item()``), so it never stalls a GPU.
        """
        _check_scores(logits)
        if self.boundary == "midpoint":
            raise ValueError("boundary: midpoint needs D's fake scores too: call observe_discriminator.")
        self._accumulate(logits, 0.0 if self.boundary is None else self.boundary)

    @staticmethod
    def _threshold(rule: Boundary, real_logits: Tensor, fake_logits: Tensor) -> Tensor | float:
        if rule == "midpoint":
            return 0.5 * (_per_image(real_logits).mean() + _per_image(fake_logits).mean())
        return rule

    def _accumulate(self, logits: Tensor, threshold: Tensor | float) -> None:
        # One value per image (a patch discriminator's signs are averaged), so the speed counts images.
        signs = (_per_image(logits) - threshold).sign().mean(dim=1)
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
        return (
            f"policy={self.policy}, target={self.target}, interval={self.interval}, speed_kimg={self.speed_kimg}, "
            f"boundary={self.boundary}"
        )
