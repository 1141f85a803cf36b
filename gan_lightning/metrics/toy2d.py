"""Mode-collapse metrics on 2D Gaussian mixtures (Srivastava et al. 2017, VEEGAN Sec. 5.1;
Lin et al. 2018, PacGAN Sec. 5.1, Table 1).

Each generated sample is assigned to its nearest mode. It is *high quality* if that
distance is below ``threshold · std`` (3 std in the protocol). A mode is *covered* when at
least one high-quality sample is nearest to it. *Reverse KL* is KL(p ‖ uniform), where p is
the histogram of high-quality samples over modes (modes with no sample contribute 0, since
0·log 0 = 0); it is 0 for a perfectly balanced generator and log(K) when one mode is all.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ModeStatistics:
    """The protocol's three numbers plus the per-mode counts they come from."""

    modes_covered: int
    high_quality_fraction: float
    reverse_kl: float
    counts: tuple[int, ...]

    def as_dict(self) -> dict[str, float]:
        """Scalars only, ready for ``log_dict`` or a results table."""
        stats = asdict(self)
        stats.pop("counts")
        return {key: float(value) for key, value in stats.items()}


def nearest_modes(samples: Tensor, modes: Tensor) -> tuple[Tensor, Tensor]:
    """``(index of the nearest mode, distance to it)`` for each sample."""
    distances = torch.cdist(samples.double(), modes.double())
    distance, index = distances.min(dim=1)
    return index, distance


def mode_statistics(samples: Tensor, modes: Tensor, std: float, threshold: float = 3.0) -> ModeStatistics:
    """Modes covered, fraction of high-quality samples and reverse KL of ``samples``.

    Args:
        samples: generated points, shape (N, 2) (any (N, D) works).
        modes: the mixture's means, shape (K, D).
        std: the mixture's standard deviation (0.01 ring, 0.05 grid).
        threshold: a sample within ``threshold · std`` of its nearest mode is high quality.
    """
    if samples.dim() != 2 or modes.dim() != 2 or samples.shape[1] != modes.shape[1]:
        raise ValueError(
            f"samples (N, D) and modes (K, D) must be 2-D with the same D; got {tuple(samples.shape)} "
            f"and {tuple(modes.shape)}. Flatten the generator's output to (N, 2) first."
        )
    if len(samples) == 0:
        raise ValueError("mode_statistics needs at least one sample (the protocol uses 2,500).")
    if std <= 0 or threshold <= 0:
        raise ValueError(f"std and threshold must be positive, got std={std}, threshold={threshold}.")
    if not torch.isfinite(samples).all():
        raise ValueError("samples contain NaN or inf: the generator has diverged.")
    index, distance = nearest_modes(samples, modes)
    high_quality = distance < threshold * std
    counts = torch.bincount(index[high_quality], minlength=len(modes))
    num_good = int(counts.sum())
    if num_good:
        p = counts[counts > 0].double() / num_good
        reverse_kl = float((p * (p * len(modes)).log()).sum())
    else:
        reverse_kl = math.inf
    return ModeStatistics(
        modes_covered=int((counts > 0).sum()),
        high_quality_fraction=num_good / len(samples),
        reverse_kl=reverse_kl,
        counts=tuple(int(c) for c in counts),
    )
