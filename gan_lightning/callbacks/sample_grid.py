"""Sample grids from the fixed latent batch: the first thing to look at in a GAN run."""

from __future__ import annotations

import math
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from torchvision.utils import make_grid, save_image

from gan_lightning.callbacks.scatter import scatter_image
from gan_lightning.loggers.clips import film_strip, grid_frames, save_gif
from gan_lightning.loggers.images import log_image, log_video, run_directory
from gan_lightning.seams import attached_trainer
from gan_lightning.tasks.base import AdversarialTask


class SampleGrid(Callback):
    """Every ``every_n_steps`` iterations and/or every ``every_n_epochs`` epochs (and at the
    end of fit), draw the module's fixed latent batch through the sampling generator (the
    EMA if enabled), save it as ``<run>/samples/step_<global_step>.png`` and send it to the
    loggers as ``samples``.

    Works with any module exposing ``sample_fixed() -> Tensor`` of images in [-1, 1] (and
    optionally ``preview_nrow``, images per row); 2D points (B, 2) are drawn as a scatter
    plot over the datamodule's ``modes`` if it has them. ``sample_fixed`` must not touch the
    training RNG (the GAN task forks it), so grids never change the training trajectory.

    Clips (B, C, T, H, W) from a video task become ``step_<global_step>.gif`` (the grid of
    clips, animated at ``fps``) and ``step_<global_step>.png`` (a film strip: one clip per
    row, frames left to right); W&B gets the GIF as a video, other loggers the strip.
    """

    def __init__(
        self,
        every_n_epochs: int | None = 1,
        nrow: int | None = None,
        every_n_steps: int | None = None,
        fps: float = 8.0,
    ) -> None:
        for name, value in (("every_n_epochs", every_n_epochs), ("every_n_steps", every_n_steps)):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1 or null, got {value}.")
        self.every_n_epochs = every_n_epochs
        self.every_n_steps = every_n_steps
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}.")
        self.nrow = nrow
        self.fps = fps
        self.last_path: Path | None = None
        self._last_step: int | None = None

    def grid(self, pl_module: pl.LightningModule, samples: torch.Tensor | None = None) -> torch.Tensor:
        samples = (pl_module.sample_fixed() if samples is None else samples).float().cpu()
        if samples.dim() == 2 and samples.shape[1] == 2:  # 2D toy data: a scatter plot, modes as crosses
            datamodule = getattr(attached_trainer(pl_module), "datamodule", None)
            return scatter_image(samples, getattr(datamodule, "modes", None))
        preview_nrow = pl_module.preview_nrow if isinstance(pl_module, AdversarialTask) else None
        nrow = self.nrow or preview_nrow or max(1, int(math.sqrt(samples.shape[0])))
        return make_grid(samples, nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)

    def write(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        samples = pl_module.sample_fixed()
        if samples.dim() == 5:
            self.write_clips(trainer, samples.float().cpu())
            return
        grid = self.grid(pl_module, samples)
        folder = run_directory(trainer) / "samples"  # a collective call: every rank makes it
        self._last_step = trainer.global_step
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            self.last_path = folder / f"step_{trainer.global_step:07d}.png"
            save_image(grid, self.last_path)
        log_image(trainer, "samples", grid, caption=f"step {trainer.global_step}")

    def write_clips(self, trainer: pl.Trainer, clips: torch.Tensor) -> None:
        """The GIF and the film strip of (B, C, T, H, W) clips, to disk and the loggers."""
        strip = film_strip(clips)
        folder = run_directory(trainer) / "samples"
        self._last_step = trainer.global_step
        gif = folder / f"step_{trainer.global_step:07d}.gif"
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            self.last_path = folder / f"step_{trainer.global_step:07d}.png"
            save_image(strip, self.last_path)
            save_gif(grid_frames(clips, self.nrow), gif, self.fps)
            log_video(trainer, "samples", gif, strip, caption=f"step {trainer.global_step}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: object) -> None:
        if self.every_n_steps and trainer.global_step % self.every_n_steps == 0:
            self.write(trainer, pl_module)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        due = self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0
        if due and self._last_step != trainer.global_step:
            self.write(trainer, pl_module)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._last_step != trainer.global_step:
            self.write(trainer, pl_module)
