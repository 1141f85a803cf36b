"""The best checkpoint by a held-out metric, kept apart from the periodic ones.

One ``ModelCheckpoint`` cannot both write a file every N steps and keep only the best by
``val/fid``: the metric exists only after a validation, so step-triggered saves wait for it
(or fail), and a run whose metrics are switched off dies at the first validation. So the
CLI has two callbacks: ``--checkpoint.*`` (periodic files and ``last.ckpt``, whatever is
logged) and ``--best.*`` (this one: the best by ``monitor``, if that is logged at all).
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor

from gan_lightning.seams import TopKCheckpointSeam, last_saved_step, save_last_checkpoint


class PeriodicCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` whose ``last.ckpt`` is the final state however fit ends.

    Lightning writes ``last.ckpt`` at the end of training only if it never wrote one, so a
    run stopped by ``max_time``, early stopping or ``trainer.should_stop`` between two periodic
    saves kept ``last.ckpt`` at the previous save and lost the iterations after it. A run
    that fails (divergence, an exception) ends in ``on_exception`` instead, so a diverged
    state never overwrites the last good file.
    """

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        stale = last_saved_step(self) != trainer.global_step
        if self.save_last and trainer.global_step > 0 and stale:
            save_last_checkpoint(self, trainer)
            return
        super().on_train_end(trainer, pl_module)


class BestCheckpoint(TopKCheckpointSeam, ModelCheckpoint):
    """Keeps the ``save_top_k`` best checkpoints by ``monitor``, checked after each validation.

    When ``monitor`` is not logged (metrics off, a different metric name) it warns once and
    keeps nothing, instead of failing the run; ``monitor: null`` switches it off silently.
    It never writes ``last.ckpt`` (the periodic ``--checkpoint`` callback does).
    """

    def __init__(
        self,
        monitor: str | None = None,
        mode: str = "min",
        save_top_k: int = 1,
        filename: str | None = "best_{step:07d}",
        dirpath: str | None = None,
        verbose: bool = False,
        save_weights_only: bool = False,
    ) -> None:
        super().__init__(
            dirpath=dirpath,
            filename=filename,
            monitor=monitor,
            mode=mode,
            save_top_k=save_top_k if monitor is not None else 0,
            verbose=verbose,
            save_weights_only=save_weights_only,
            save_last=False,
            auto_insert_metric_name=False,
            save_on_train_epoch_end=False,
        )
        self._warned_missing = False

    def skips_top_k(self, monitor_candidates: dict[str, Tensor]) -> bool:
        """No top-k save when ``monitor`` is not logged: warn once instead of failing the run."""
        if self.monitor is not None and self.monitor not in monitor_candidates:
            if not self._warned_missing:
                rank_zero_warn(
                    f"The best checkpoint is chosen by {self.monitor!r}, which this run does not log (metrics "
                    "switched off?): no best checkpoint is kept; last.ckpt and the periodic checkpoints still are. "
                    "Set --best.monitor to a logged metric, or --best.monitor=null."
                )
                self._warned_missing = True
            return True
        return False

    @property
    def state_key(self) -> str:
        return f"BestCheckpoint{{'monitor': {self.monitor!r}, 'mode': {self.mode!r}}}"
