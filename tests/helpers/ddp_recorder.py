"""Callbacks for DDP tests, named on the command line (``--trainer.callbacks+=tests.helpers.ddp_recorder.X``):
what each rank trained on (real batches, every noise draw, weights before and after), its buffers,
or its final state, written to ``<directory>/rank<r>.pt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch


class RecordTraining(pl.Callback):
    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.record: dict[str, Any] = {"real": [], "latent": []}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.record["initial"] = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
        self.record["strategy"] = type(trainer.strategy).__name__
        draw = pl_module.sample_latent

        def recording_sample_latent(num: int) -> torch.Tensor:
            latent = draw(num)
            self.record["latent"].append(latent.detach().clone())
            return latent

        pl_module.sample_latent = recording_sample_latent

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        self.record["real"].append(batch[0].detach().clone())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.record["final"] = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
        self.record["global_step"] = trainer.global_step
        self.directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.record, self.directory / f"rank{trainer.global_rank}.pt")
        trainer.save_checkpoint(self.directory / "final.ckpt")  # collective: every rank takes part


class RecordBuffers(pl.Callback):
    """Each rank's buffers wherever something looks at the model: validation start, train
    epoch end (where sample grids are drawn) and the end of fit, into ``<dir>/buffers_rank<r>.pt``."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.snapshots: list[tuple[str, int, dict[str, torch.Tensor]]] = []

    def _snapshot(self, event: str, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        buffers = {name: buffer.detach().clone() for name, buffer in pl_module.named_buffers()}
        self.snapshots.append((event, trainer.global_step, buffers))

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._snapshot("validation_start", trainer, pl_module)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._snapshot("train_epoch_end", trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._snapshot("train_end", trainer, pl_module)
        self.directory.mkdir(parents=True, exist_ok=True)
        torch.save(self.snapshots, self.directory / f"buffers_rank{trainer.global_rank}.pt")


class RecordState(pl.Callback):
    """Writes each rank's final state (weights and image pools) to ``<directory>/rank<r>.pt``."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {"state": pl_module.state_dict(), "strategy": type(trainer.strategy).__name__}
        torch.save({**record, "global_step": trainer.global_step}, self.directory / f"rank{trainer.global_rank}.pt")
