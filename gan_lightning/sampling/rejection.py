"""Discriminator rejection sampling, threshold form (after Azadi et al. 2019, "Discriminator
Rejection Sampling").

A trained discriminator scores the regions between the data's modes far below the data
itself, while a continuous generator always puts some mass there (the latent noise that
maps between two modes). Drawing samples and keeping those that D scores at least as high
as the ``quantile``-th real sample removes most of that mass. DRS proper accepts with a
probability derived from D's logit (their Eq. 8); the hard threshold on the real scores'
quantile used here needs no γ tuning and states its meaning in data terms: "keep what D
cannot tell from the lowest-scored 1 % of the real data, or better". The price is the extra
samples drawn, returned as ``drawn`` so a benchmark can report it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


class RejectionError(RuntimeError):
    """Too few samples passed: ``accepted`` of ``drawn``."""

    def __init__(self, message: str, accepted: int, drawn: int) -> None:
        super().__init__(message)
        self.accepted = accepted
        self.drawn = drawn


@dataclass(frozen=True)
class RejectionSamples:
    """``samples`` (num, ...) that passed, and how many were ``drawn`` to get them."""

    samples: Tensor
    drawn: int

    @property
    def acceptance(self) -> float:
        return len(self.samples) / self.drawn


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
    """``num`` samples of ``sample`` whose ``score`` is at least ``threshold``.

    Draws batches of ``num`` until enough pass; fails clearly after ``max_draws`` batches
    (a discriminator that rejects almost everything says the generator is far from the data).
    """
    kept: list[Tensor] = []
    accepted = drawn = 0
    for _ in range(max_draws):
        batch = sample(num)
        passes = (score(batch).flatten() >= threshold).nonzero().flatten()[: num - accepted]
        kept.append(batch[passes])
        accepted += len(passes)
        if accepted == num:  # count draws up to the last sample kept, not the whole batch
            return RejectionSamples(torch.cat(kept), drawn + int(passes[-1]) + 1)
        drawn += len(batch)
    raise RejectionError(
        f"Rejection sampling accepted {accepted} of {drawn} samples (threshold {threshold:.4g}): too few to keep "
        f"{num}. The discriminator rates nearly all generated samples below the real data; train longer or lower "
        "the rejection quantile.",
        accepted,
        drawn,
    )
