"""Image logging that works with every logger (``add_image`` exists on TensorBoard only).

Every logger gets the same 8-bit picture that ``torchvision.utils.save_image`` writes to
disk (x · 255 + 0.5, clamped, truncated), so W&B, TensorBoard and the PNG files agree pixel for
pixel. W&B must never get a float tensor: wandb (0.2x-0.31) casts it to uint8 without
scaling, so an image in [0, 1] logs as black.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger
from PIL import Image
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


def to_uint8(image: Tensor) -> Tensor:
    """A (C, H, W) image in [0, 1] as (C, H, W) uint8, quantised exactly as
    ``torchvision.utils.save_image`` quantises the PNG files."""
    if image.dim() != 3 or image.shape[0] not in (1, 3, 4):
        raise ValueError(f"log_image takes one (C, H, W) image with 1, 3 or 4 channels, got {tuple(image.shape)}.")
    if image.dtype == torch.uint8:
        return image.cpu()
    return image.detach().float().cpu().mul(255).add(0.5).clamp(0, 255).to(torch.uint8)


def to_pil(image: Tensor) -> Image.Image:
    """A (C, H, W) image in [0, 1] (or uint8) as a PIL image: grey, RGB or RGBA."""
    pixels = to_uint8(image).permute(1, 2, 0).numpy()
    return Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)


def log_image(trainer: pl.Trainer, key: str, image: Tensor, caption: str | None = None) -> None:
    """Send a (C, H, W) image in [0, 1] to every attached logger at the current step.

    W&B and any other logger with a ``log_image(key, images, step)`` method get a PIL
    image; TensorBoard gets uint8 pixels. CSV has no image channel: the PNGs written by the
    callbacks are its record.
    """
    step = trainer.global_step
    pixels = to_uint8(image)
    for logger in trainer.loggers:
        if isinstance(logger, _LightningWandbLogger):
            extra = {"caption": [caption]} if caption else {}
            logger.log_image(key=key, images=[to_pil(pixels)], step=step, **extra)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, pixels, global_step=step, dataformats="CHW")
        elif isinstance(logger, CSVLogger):
            continue
        elif hasattr(logger, "log_image"):
            logger.log_image(key=key, images=[to_pil(pixels)], step=step)


def log_video(trainer: pl.Trainer, key: str, gif_path: Path, strip: Tensor, caption: str | None = None) -> None:
    """Send a clip to every attached logger at the current step: W&B gets the animated GIF
    at ``gif_path`` as a ``wandb.Video`` (a file: raw arrays would need moviepy), TensorBoard
    and other image loggers the film ``strip`` (C, H, W) in [0, 1] as an image. CSV: the
    files on disk are its record."""
    step = trainer.global_step
    for logger in trainer.loggers:
        if isinstance(logger, _LightningWandbLogger):
            extra = {"caption": [caption]} if caption else {}
            logger.log_video(key=key, videos=[str(gif_path)], step=step, **extra)
        elif isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(key, to_uint8(strip), global_step=step, dataformats="CHW")
        elif isinstance(logger, CSVLogger):
            continue
        elif hasattr(logger, "log_image"):
            logger.log_image(key=key, images=[to_pil(to_uint8(strip))], step=step)
