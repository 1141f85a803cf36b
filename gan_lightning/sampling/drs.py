"""Discriminator Rejection Sampling (Azadi et al. 2019, "Discriminator Rejection Sampling",
Sec. 3 and Alg. 1).

For a logistic discriminator D(x) = σ(F(x)) at its optimum, exp(F(x)) = p_data(x)/p_g(x),
so rejection sampling with the bound M = max p_data/p_g accepts x ~ p_g with probability
exp(F(x))/M and returns exact draws of p_data. The practical scheme estimates and softens:

- **Burn-in**: ``log D*_M`` = the largest logit over ``burn_in`` generator samples; while
  sampling, a sample whose logit exceeds it raises it (from that sample on: a running max).
- **F̂(x) = F(x) − log D*_M − log(1 − exp(F(x) − log D*_M − ε)) − γ**; accept with
  probability σ(F̂(x)). With γ = 0, σ(F̂) = exp(F − log D*_M) up to ε: exact rejection
  sampling. ε = 1e-6 keeps the log finite at the max itself.
- **γ** shifts every F̂ by the same amount: larger γ rejects more. The paper sets it from a
  percentile of F(x), so acceptance does not hinge on the scale of M (in high dimensions
  exact acceptance vanishes); public reimplementations take the 80th percentile of each
  batch (StudioGAN's ``DRS``, with ε = 1e-6). Here γ is the ``gamma_quantile`` point (0.8:
  the 80th percentile) of F̂|γ=0 over the burn-in samples, computed once, so acceptance
  does not depend on the batch a sample is drawn with. A γ > 0 is no longer exact: σ(F̂) ≈
  e^{−γ}·ratio/M for low ratios but saturates at 1 for high ones, so it sharpens towards
  D's peaks (more precision, less spread). ``gamma_quantile=None`` is γ = 0: exact
  rejection sampling, for a calibrated D.
- **D "trained to convergence"** with G fixed: :func:`fine_tune` trains a *copy* of D
  further with the logistic loss on real vs generated samples, so its logit approaches the
  log density ratio of *this* generator (the training D lags G and, with R1 or other
  penalties, is smoothed). The training D is untouched.

Everything random here draws from generators seeded by the caller (the acceptance coins,
the fine-tuning batches); the global RNG, which training uses, is never touched.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.sampling.rejection import RejectionSamples, keep_until

EPSILON = 1e-6
BURN_IN = 10_000
GAMMA_QUANTILE = 0.8


def drs_logit(logits: Tensor, max_logit: Tensor | float, gamma: float = 0.0, epsilon: float = EPSILON) -> Tensor:
    """F̂(x) = F − log D*_M − log(1 − exp(F − log D*_M − ε)) − γ (Azadi et al. 2019, Sec. 3.2),
    with ``logits`` F(x) and ``max_logit`` log D*_M (which must be ≥ every logit)."""
    delta = logits.double() - max_logit
    return delta - torch.log(-torch.expm1(delta - epsilon)) - gamma


def acceptance_probability(
    logits: Tensor, max_logit: Tensor | float, gamma: float = 0.0, epsilon: float = EPSILON
) -> Tensor:
    """σ(F̂(x)): the probability DRS keeps each sample."""
    return torch.sigmoid(drs_logit(logits, max_logit, gamma, epsilon))


def running_max(logits: Tensor, start: float) -> Tensor:
    """log D*_M as each sample in turn sees it: the burn-in's ``start``, raised by any
    sample so far (this one included) whose logit exceeds it."""
    return torch.cummax(logits.double(), dim=0).values.clamp(min=start)


@dataclass(frozen=True)
class BurnIn:
    """What the burn-in estimates: ``max_logit`` (log D*_M) and ``gamma``, from ``samples`` draws."""

    max_logit: float
    gamma: float
    samples: int


def check_gamma_quantile(gamma_quantile: float | None) -> float | None:
    if gamma_quantile is not None and not 0.0 <= gamma_quantile <= 1.0:
        raise ValueError(
            f"DRS gamma_quantile must be in [0, 1] (0.8: the 80th percentile) or None, got {gamma_quantile}."
        )
    return gamma_quantile


def burn_in(logits: Tensor, gamma_quantile: float | None = GAMMA_QUANTILE, epsilon: float = EPSILON) -> BurnIn:
    """log D*_M and γ from the logits of the burn-in samples."""
    logits = logits.detach().flatten().double().cpu()
    max_logit = float(logits.max())
    if check_gamma_quantile(gamma_quantile) is None:
        return BurnIn(max_logit, 0.0, len(logits))
    gamma = float(torch.quantile(drs_logit(logits, max_logit, 0.0, epsilon), gamma_quantile))
    return BurnIn(max_logit, gamma, len(logits))


class Acceptance:
    """The accept step of Alg. 1 over successive batches: the running log D*_M, γ, and the
    acceptance coins from their own generator (seeded: the same draws every call)."""

    def __init__(self, score: Callable[[Tensor], Tensor], start: BurnIn, epsilon: float, seed: int) -> None:
        self.score = score
        self.max_logit = start.max_logit
        self.gamma = start.gamma
        self.epsilon = epsilon
        self.coins = torch.Generator().manual_seed(seed)

    def __call__(self, batch: Tensor) -> Tensor:
        logits = self.score(batch).detach().flatten().double().cpu()
        bound = running_max(logits, self.max_logit)
        self.max_logit = float(bound[-1])
        probability = acceptance_probability(logits, bound, self.gamma, self.epsilon)
        return torch.rand(len(logits), generator=self.coins, dtype=torch.float64) < probability


def draw_burn_in(
    sample: Callable[[int], Tensor], score: Callable[[Tensor], Tensor], num: int, batch_size: int
) -> Tensor:
    """The logits of ``num`` fresh samples, drawn in batches of at most ``batch_size``."""
    logits = []
    for start in range(0, num, batch_size):
        logits.append(score(sample(min(batch_size, num - start))).detach().flatten().cpu())
    return torch.cat(logits)


def drs_sample(
    sample: Callable[[int], Tensor],
    score: Callable[[Tensor], Tensor],
    num: int,
    burn_in_samples: int = BURN_IN,
    gamma_quantile: float | None = GAMMA_QUANTILE,
    epsilon: float = EPSILON,
    seed: int = 0,
    max_draws: int = 100,
) -> RejectionSamples:
    """``num`` samples of ``sample`` kept by DRS with D's logit ``score`` (Alg. 1).

    ``sample`` is the generator to filter: pass the one D was trained against (the raw G,
    not its EMA). ``score`` is D's logit F(x), as the paper scores (D in eval mode, no
    augmentation). The burn-in's draws are counted in ``burn_in``, not in ``drawn``.
    """
    if burn_in_samples < 1:
        raise ValueError(f"DRS needs a burn-in of at least 1 sample (the paper: 10,000), got {burn_in_samples}.")
    start = burn_in(draw_burn_in(sample, score, burn_in_samples, num), gamma_quantile, epsilon)
    keep = Acceptance(score, start, epsilon, seed)
    hint = "lower gamma_quantile (or set it to None: exact rejection sampling)"
    result = keep_until(sample, keep, num, max_draws, hint)
    return RejectionSamples(result.samples, result.drawn, burn_in=start.samples)


@contextmanager
def own_rng() -> Iterator[None]:
    """The global RNG (and the current CUDA device's) as it was before, afterwards: dropout
    or noise inputs in a fine-tuned copy never shift the training streams."""
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        yield


def logistic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """−log σ(F(real)) − log(1 − σ(F(fake))): the loss whose optimum is F = log p_data/p_g."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def fine_tune(
    discriminator: nn.Module,
    real: Callable[[int], Tensor],
    fake: Callable[[int], Tensor],
    steps: int,
    batch_size: int = 512,
    lr: float = 1e-4,
) -> nn.Module:
    """A copy of ``discriminator`` trained ``steps`` more Adam steps (β = (0.5, 0.999)) with
    the logistic loss on ``real(batch_size)`` vs ``fake(batch_size)``, G fixed: DRS's
    "train D to convergence" (Azadi et al. 2019, Sec. 3.1-3.2), with no penalty, so the
    copy's logit can sharpen towards log p_data/p_g. Returned in eval mode; the original
    and the global RNG are untouched. Pass ``real``/``fake`` that draw from seeded generators.
    """
    if steps < 0:
        raise ValueError(f"fine_tune steps must be >= 0, got {steps}.")
    with own_rng(), torch.inference_mode(False), torch.enable_grad():  # callable from validation hooks
        tuned = copy.deepcopy(discriminator).requires_grad_(True).train()
        optimizer = torch.optim.Adam(tuned.parameters(), lr=lr, betas=(0.5, 0.999))
        for _ in range(steps):
            with torch.no_grad():
                real_batch, fake_batch = real(batch_size), fake(batch_size)
            loss = logistic_loss(tuned(real_batch), tuned(fake_batch))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return tuned.eval().requires_grad_(False)
