"""Which discriminator filter, with which settings: one object a callback or a config names.

``Rejection(method="threshold", quantile=0.01)`` is the hard threshold on the real scores'
quantile (:func:`gan_lightning.sampling.rejection.rejection_sample`);
``Rejection(method="drs")`` is Discriminator Rejection Sampling as Azadi et al. 2019
(:mod:`gan_lightning.sampling.drs`). Both filter the generator D was trained against: the
raw G (``generator: raw``, the default), not its EMA, whose samples D never saw.

D scores as the paper scores: its logit in eval mode, without the training augmentation,
gradients or RNG draws (:func:`discriminator_logits`). Why not D's training-mode forward
through the augmentation: DRS reads F(x) as log p_data/p_g *at x*; a random augmentation
(or dropout) would make the acceptance of a sample a random function of it, and train-mode
BatchNorm would make it depend on the other samples in its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from gan_lightning.sampling.drs import BURN_IN, EPSILON, GAMMA_QUANTILE, check_gamma_quantile, drs_sample, fine_tune
from gan_lightning.sampling.rejection import RejectionSamples, check_quantile, real_score_threshold, rejection_sample
from gan_lightning.training.looking import looking_only


def discriminator_logits(discriminator: nn.Module) -> Callable[[Tensor], Tensor]:
    """``score(points)``: D's logit of each point, in eval mode, without augmentation or
    gradients; D's modes, buffers and the global RNG are as before afterwards."""

    def score(points: Tensor) -> Tensor:
        device = next(discriminator.parameters()).device
        with looking_only(discriminator):
            return discriminator(points.to(device)).flatten()

    return score


@dataclass(frozen=True)
class Rejection:
    """How to filter generated samples through D.

    Args:
        method: ``threshold`` (keep a sample when D scores it at least as high as the real
            scores' ``quantile``) or ``drs`` (Azadi et al. 2019, Alg. 1).
        quantile: the threshold's quantile of D's scores on real points.
        burn_in: DRS: generator samples whose largest logit starts log D*_M (paper: 10,000).
        gamma_quantile: DRS: γ is this quantile of F̂|γ=0 over the burn-in; None: γ = 0.
        epsilon: DRS: ε of F̂ (1e-6).
        fine_tune_steps: Adam steps of logistic training of a *copy* of D on real vs raw-G
            points, G fixed, before filtering (DRS's "train D to convergence"; 0: D as
            trained). Any objective's D becomes a logistic one this way.
        fine_tune_batch: real and generated points per fine-tuning step (each).
        fine_tune_lr: Adam learning rate of the fine-tuning (β = (0.5, 0.999)).
        generator: ``raw`` (the generator D was trained against) or ``ema``.
        seed: seed of the acceptance coins and the fine-tuning batches.
    """

    method: Literal["threshold", "drs"] = "drs"
    quantile: float = 0.01
    burn_in: int = BURN_IN
    gamma_quantile: float | None = GAMMA_QUANTILE
    epsilon: float = EPSILON
    fine_tune_steps: int = 0
    fine_tune_batch: int = 512
    fine_tune_lr: float = 1e-4
    generator: Literal["raw", "ema"] = "raw"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in ("threshold", "drs"):
            raise ValueError(f"Rejection method must be 'threshold' or 'drs', got {self.method!r}.")
        if self.generator not in ("raw", "ema"):
            raise ValueError(f"Rejection generator must be 'raw' or 'ema', got {self.generator!r}.")
        if self.fine_tune_steps < 0 or self.burn_in < 1:
            raise ValueError("Rejection fine_tune_steps must be >= 0 and burn_in >= 1.")
        check_quantile(self.quantile)
        check_gamma_quantile(self.gamma_quantile)

    @property
    def needs_logistic_d(self) -> bool:
        """DRS reads D's logit as log p_data/p_g: true of a logistic D, or of a fine-tuned copy."""
        return self.method == "drs" and self.fine_tune_steps == 0

    def describe(self) -> str:
        """One line: what filtered the samples."""
        d = f"D fine-tuned {self.fine_tune_steps} steps" if self.fine_tune_steps else "D as trained"
        if self.method == "threshold":
            return f"D threshold at the real scores' {100 * self.quantile:g} % quantile, {self.generator} G, {d}"
        gamma = "γ = 0" if self.gamma_quantile is None else f"γ at the {100 * self.gamma_quantile:g}th percentile"
        return f"DRS (Azadi et al. 2019), {gamma}, burn-in {self.burn_in:,}, {self.generator} G, {d}"

    def discriminator(
        self, discriminator: nn.Module, real: Callable[[int], Tensor], fake: Callable[[int], Tensor]
    ) -> nn.Module:
        """The D that filters: ``discriminator`` itself, or its fine-tuned copy."""
        if not self.fine_tune_steps:
            return discriminator
        return fine_tune(discriminator, real, fake, self.fine_tune_steps, self.fine_tune_batch, self.fine_tune_lr)

    def filter(
        self, sample: Callable[[int], Tensor], score: Callable[[Tensor], Tensor], num: int, real: Tensor
    ) -> RejectionSamples:
        """``num`` samples of ``sample`` that pass, scored by ``score`` (``real``: real points,
        for the threshold's quantile)."""
        if self.method == "threshold":
            return rejection_sample(sample, score, num, real_score_threshold(score(real), self.quantile))
        return drs_sample(sample, score, num, self.burn_in, self.gamma_quantile, self.epsilon, self.seed)


def seeded_rows(points: Tensor, seed: int) -> Callable[[int], Tensor]:
    """``draw(n)``: n rows of ``points`` drawn with replacement from a seeded generator."""
    generator = torch.Generator().manual_seed(seed)

    def draw(num: int) -> Tensor:
        return points[torch.randint(len(points), (num,), generator=generator)]

    return draw
