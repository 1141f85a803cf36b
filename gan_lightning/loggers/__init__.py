"""Experiment tracking: W&B that falls back to offline, and image logging for any logger."""

from gan_lightning.loggers.images import log_image, log_video, run_directory, to_pil, to_uint8
from gan_lightning.loggers.wandb import WandbLogger, resolve_wandb_mode

__all__ = ["WandbLogger", "log_image", "log_video", "resolve_wandb_mode", "run_directory", "to_pil", "to_uint8"]
