"""Anneal the discriminator's regularizer weights over the second part of a run.

A penalty strong enough to stop the early oscillation also limits how sharp D may become
late in training. On the 2D ring (std 0.01), R1 with γ = 1 is what lets the generator find
all 8 modes, but it keeps D flat at the data's own scale: D scores a sample 4σ from a mode
about as high as one at 1σ, so the generator's near-mode tails never get pulled in and the
high-quality fraction stalls (BENCHMARKS.md, 2D section). Decaying γ geometrically once
the modes are found lets D, and through it G, sharpen.

The weight is a pure function of the iteration (``trainer.global_step``) and
``trainer.max_steps``, so a resumed run continues the same schedule.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback


class RegularizerAnnealing(Callback):
    """Multiply the discriminator regularizers' weights by ``final_factor ** f``, where ``f``
    goes linearly from 0 at ``start · max_steps`` to 1 at ``max_steps`` (a geometric decay:
    weights that matter span decades).

    Args:
        final_factor: the weight at the end of training, as a fraction of the configured
            one (``1e-4``: R1 γ = 1 ends at 1e-4). Must be in (0, 1].
        start: fraction of ``max_steps`` before which the configured weight holds.
        targets: class names of the regularizers to anneal (e.g. ``[R1Penalty]``); all of
            the module's discriminator ``regularizers`` when ``None``.

    The current weight is logged as ``train/weight/<name>``.
    """

    def __init__(self, final_factor: float = 1e-4, start: float = 0.5, targets: list[str] | None = None) -> None:
        if not 0.0 < final_factor <= 1.0:
            raise ValueError(f"RegularizerAnnealing final_factor must be in (0, 1] (e.g. 1e-4), got {final_factor}.")
        if not 0.0 <= start < 1.0:
            raise ValueError(f"RegularizerAnnealing start must be a fraction of max_steps in [0, 1), got {start}.")
        self.final_factor = final_factor
        self.start = start
        self.targets = None if targets is None else list(targets)
        self._base: list[tuple[Any, float]] = []

    def factor(self, iteration: int, max_steps: int) -> float:
        """The multiplier of the configured weights at ``iteration`` (0-based) of ``max_steps``."""
        progress = (iteration / max_steps - self.start) / (1.0 - self.start)
        return self.final_factor ** min(1.0, max(0.0, progress))

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.max_steps is None or trainer.max_steps < 1:
            raise ValueError(
                "RegularizerAnnealing follows --trainer.max_steps, which is not set (got "
                f"{trainer.max_steps}). Set --trainer.max_steps=<iterations> or remove the callback."
            )
        regularizers = getattr(pl_module, "regularizers", None)
        if regularizers is None:
            raise ValueError(
                f"RegularizerAnnealing needs a module with discriminator `regularizers` (GAN); got "
                f"{type(pl_module).__name__}."
            )
        chosen = [reg for reg in regularizers if self.targets is None or type(reg).__name__ in self.targets]
        if not chosen:
            names = [type(reg).__name__ for reg in regularizers] or "none"
            raise ValueError(
                f"RegularizerAnnealing found nothing to anneal: targets {self.targets}, the model's discriminator "
                f"regularizers: {names}."
            )
        self._base = [(reg, reg.weight) for reg in chosen]

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        factor = self.factor(trainer.global_step, trainer.max_steps)
        for regularizer, weight in self._base:
            regularizer.weight = weight * factor
            pl_module.log(
                f"train/weight/{regularizer.name}", regularizer.weight, on_step=True, on_epoch=False, batch_size=1
            )

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Back to the configured weights: a later fit of the same module starts from them."""
        for regularizer, weight in self._base:
            regularizer.weight = weight
        self._base = []
