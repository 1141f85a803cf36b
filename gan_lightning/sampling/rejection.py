"""Rejection by a trained discriminator: what both filters share, and the hard threshold.

A trained discriminator scores the regions between the data's modes far below the data
itself, while a continuous generator always puts some mass there (the latent noise that
maps between two modes). Both filters here draw samples and keep some of them; the price is
the extra samples drawn, returned as ``drawn`` so a benchmark can report it.

- :func:`rejection_sample` (``method: threshold``) keeps a sample when D scores it at least
  as high as the ``quantile``-th real sample: "keep what D cannot tell from the lowest-scored
  1 % of the real data, or better". Deterministic, no γ to tune, but it is *not* rejection
  sampling: it truncates the generator's distribution to D's high-score region, so it cannot
  correct the mass between modes, only cut it off.
- :func:`gan_lightning.sampling.drs.drs_sample` (``method: drs``) is Discriminator Rejection
  Sampling proper (Azadi et al. 2019, Alg. 1): accept with probability σ(F̂(x)), a
  calibrated estimate of p_data/(M·p_g).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

#: ``keep(batch) -> bool mask``: which samples of a freshly drawn batch a filter keeps.
Keep = Callable[[Tensor], Tensor]


class RejectionError(RuntimeError):
    """Too few samples passed: ``accepted`` of ``drawn``."""

    def __init__(self, message: str, accepted: int, drawn: int) -> None:
        super().__init__(message)
        self.accepted = accepted
        self.drawn = drawn


@dataclass(frozen=True)
class RejectionSamples:
    """``samples`` (num, ...) that passed, and how many were ``drawn`` to get them (a
    one-off ``burn_in``, DRS's estimate of its bound, is counted apart)."""

    samples: Tensor
    drawn: int
    burn_in: int = 0

    @property
    def acceptance(self) -> float:
        return len(self.samples) / self.drawn

    @property
    def extra_draws(self) -> float:
        """Generator draws beyond one per kept sample, per kept sample (1/acceptance − 1)."""
        return self.drawn / len(self.samples) - 1.0


def keep_until(sample: Callable[[int], Tensor], keep: Keep, num: int, max_draws: int, hint: str) -> RejectionSamples:
    """``num`` samples of ``sample`` that ``keep`` keeps, drawn in batches of ``num``.

    Draws are counted up to the last sample kept, not the whole last batch. Fails clearly
    (``hint``: what to change) after ``max_draws`` batches: a discriminator that rejects
    almost everything says the generator is far from the data.
    """
    kept: list[Tensor] = []
    accepted = drawn = 0
    for _ in range(max_draws):
        batch = sample(num)
        passes = keep(batch).flatten().nonzero().flatten()[: num - accepted]
        kept.append(batch[passes])
        accepted += len(passes)
        if accepted == num:
            return RejectionSamples(torch.cat(kept), drawn + int(passes[-1]) + 1)
        drawn += len(batch)
    raise RejectionError(
        f"Rejection sampling accepted {accepted} of {drawn} samples: too few to keep {num}. The discriminator rates "
        f"nearly all generated samples below the real data; train longer or {hint}.",
        accepted,
        drawn,
    )


def check_quantile(quantile: float) -> float:
    """``quantile`` if it is a valid rejection quantile, else a clear error."""
    if not 0.0 <= quantile < 1.0:
        raise ValueError(f"rejection quantile must be in [0, 1) (e.g. 0.01), got {quantile}.")
    return quantile


def real_score_threshold(real_scores: Tensor, quantile: float) -> float:
    """The score below which only ``quantile`` of the real data lies."""
    return float(torch.quantile(real_scores.detach().flatten().double(), check_quantile(quantile)))


def rejection_sample(
    sample: Callable[[int], Tensor],
    score: Callable[[Tensor], Tensor],
    num: int,
    threshold: float,
    max_draws: int = 100,
) -> RejectionSamples:
    """``num`` samples of ``sample`` whose ``score`` is at least ``threshold`` (the hard
    threshold, ``method: threshold``)."""

    def keep(batch: Tensor) -> Tensor:
        return score(batch).flatten() >= threshold

    return keep_until(sample, keep, num, max_draws, f"lower the rejection quantile (threshold {threshold:.4g})")
