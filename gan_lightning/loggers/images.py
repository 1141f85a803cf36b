"""Image logging that works with every logger (``add_image`` exists on TensorBoard only)."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger
from torch import Tensor


def run_directory(trainer: pl.Trainer) -> Path:
    """The folder of this run: ``<save_dir>/<name>/<version>``, the parent of the checkpoint
    folder Lightning's ``ModelCheckpoint`` picks, or ``default_root_dir`` without a logger.
    The same on every rank (rank 0's answer is broadcast)."""
    if not trainer.loggers:
        path = Path(trainer.default_root_dir)
    else:
        logger = trainer.loggers[0]
        if isinstance(logger, (CSVLogger, TensorBoardLogger)):
            path = Path(logger.log_dir)
        else:
            version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
            path = Path(logger.save_dir or trainer.default_root_dir) / str(logger.name) / version
    return Path(trainer.strategy.broadcast(str(path)))


def log_image(trainer: pl.Trainer, key: str, image: Tensor, caption: str | None = None) -> None:
    """Send a (C, H, W) image in [0, 1] to every attached logger at the current step.

    CSV has no image channel: PNGs written by the callbacks are its record.
    """
    step = trainer.global_step
    for logger in trainer.loggers:
        if isinstance(logger, _LightningWandbLogger):
            logger.log_image(key=key, images=[image.float().cpu()], caption=[caption] if caption else None, step=step)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, image.float().cpu(), global_step=step)
        elif isinstance(logger, CSVLogger):
            continue
        elif hasattr(logger, "log_image"):
            logger.log_image(key=key, images=[image.float().cpu()], step=step)
