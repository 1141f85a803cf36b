"""One progress bar over a whole run, in iterations (generator updates).

Lightning's bar restarts every epoch; runs here are sized by ``max_steps`` (MNIST-5k's epoch
is 70 batches), so a long benchmark would show "epoch 23" and no end. This bar counts
``global_step`` up to ``max_steps`` and prints nothing else, so it also suits scripts that
turn Lightning's own bar off.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback
from tqdm import tqdm


class IterationProgressBar(Callback):
    """A tqdm bar from the first to the ``max_steps``-th iteration, labelled ``description``."""

    def __init__(self, description: str = "train") -> None:
        self.description = description
        self.bar: tqdm | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        total = trainer.max_steps if trainer.max_steps > 0 else None
        self.bar = tqdm(
            total=total,
            initial=trainer.global_step,
            desc=self.description,
            unit="it",
            dynamic_ncols=True,
            leave=False,
            mininterval=1.0,
        )

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self.bar is not None:
            self.bar.update(trainer.global_step - self.bar.n)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
