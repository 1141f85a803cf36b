"""What a finished run achieved and where everything is, printed once at the end of fit.

Without it the last thing a user sees is a progress bar: the best FID, the checkpoint to
evaluate and the W&B folder to sync are scattered over callbacks and log folders.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import lightning.pytorch as pl
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger

from gan_lightning.callbacks.sample_grid import SampleGrid
from gan_lightning.checkpoint.run_folder import find_run_config
from gan_lightning.loggers.images import run_directory
from gan_lightning.tasks.base import AdversarialTask

#: Validation logs D's mean readouts (``val/D(x)``, ``val/D(G(z))``, ``val/D(x_train)``...)
#: whatever the metrics: diagnostics of training, not scores of the samples.
DISCRIMINATOR_READOUT = "val/D("


def shown(path: str | Path) -> str:
    """``path`` relative to the working folder when it lies inside it (what a user copies
    into the next command), else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _number(value: float) -> str:
    return f"{value:.4g}"


class RunSummary(Callback):
    """At the end of fit, on rank 0, print a short block: the best ``metric`` (``val/fid``)
    beside its floor and the iteration it was reached at, ``val/modes_covered``, the best
    and last checkpoints, the latest sample grid, where the logger wrote (``wandb sync``
    line offline, the URL online) and the ``gan-lightning evaluate`` / ``sample`` commands
    to run next. Lines whose source is absent (no metrics, no checkpointing, no logger) are
    left out or say so; nothing here can fail a run that trained.

    Args:
        metric: the logged value to report the best of; its floor is ``<metric>_floor``.
        mode: ``min`` (FID, KID) or ``max`` (IS, precision) is better.
        ``metric=None`` follows the best-checkpoint callback (``--best.monitor`` and its mode:
        ``val/psnr`` for SRGAN, ``val/l1`` for pix2pix), else ``val/fid``.
    """

    def __init__(self, metric: str | None = None, mode: Literal["min", "max"] | None = None) -> None:
        if mode not in (None, "min", "max"):
            raise ValueError(f"RunSummary mode must be 'min' or 'max', got {mode!r}.")
        self.metric = metric or "val/fid"
        self.mode = mode or "min"
        self._follow_best_checkpoint = metric is None
        self.best: dict[str, float] | None = None  # value, step, and modes/floor when logged
        self.last: dict[str, float] = {}
        self.validated: list[str] | None = None  # what the validations logged (None: none ran)

    # -- collecting ------------------------------------------------------------------------
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._follow_best_checkpoint:
            return
        monitored = [c for c in trainer.checkpoint_callbacks if isinstance(c, ModelCheckpoint) and c.monitor]
        if monitored:
            self.metric, self.mode = monitored[0].monitor, monitored[0].mode

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best["value"] if self.mode == "min" else value > self.best["value"]

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        logged = {name: float(value) for name, value in trainer.callback_metrics.items() if value.numel() == 1}
        self.validated = sorted(name for name in logged if name.startswith("val/"))
        for key in (self.metric, f"{self.metric}_floor", "val/modes_covered"):
            if key in logged and math.isfinite(logged[key]):
                self.last[key] = logged[key]
        value = logged.get(self.metric)
        if value is not None and math.isfinite(value) and self._better(value):
            self.best = {"value": value, "step": float(trainer.global_step)}
            if "val/modes_covered" in logged:
                self.best["modes"] = logged["val/modes_covered"]

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "last": self.last}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict.get("best")
        self.last = dict(state_dict.get("last", {}))

    # -- reporting -------------------------------------------------------------------------
    def metric_lines(self) -> list[tuple[str, str]]:
        if self.best is None:
            return [(self.metric, self.why_not_logged())]
        text = f"{_number(self.best['value'])} best, at iteration {int(self.best['step'])}"
        floor = self.last.get(f"{self.metric}_floor")
        if floor is not None:
            text += f"  (floor {_number(floor)}: training images scored the same way)"
        lines = [(self.metric, text)]
        if self.last.get(self.metric, self.best["value"]) != self.best["value"]:
            lines.append(("", f"{_number(self.last[self.metric])} at the last validation"))
        if "val/modes_covered" in self.last:
            at_best = f"{self.best['modes']:g} at the best iteration, " if "modes" in self.best else ""
            lines.append(("val/modes_covered", f"{at_best}{self.last['val/modes_covered']:g} at the last validation"))
        return lines

    def why_not_logged(self) -> str:
        """The reason there is no best value, of the two a user can act on."""
        if self.validated is None:
            return "not logged: no validation ran (the run ended before trainer.val_check_interval)"
        scores = [name for name in self.validated if not name.startswith(DISCRIMINATOR_READOUT)]
        if not scores:
            return "not logged: the model computes no validation metrics (model.init_args.metrics is off)"
        shown_keys = ", ".join(scores[:4]) + (" ..." if len(scores) > 4 else "")
        return f"not logged: the validations logged {shown_keys}"

    @staticmethod
    def checkpoints(trainer: pl.Trainer) -> dict[str, str]:
        """``best`` (a monitored ModelCheckpoint's best file) and ``last`` paths that exist."""
        found: dict[str, str] = {}
        for callback in trainer.checkpoint_callbacks:
            if not isinstance(callback, ModelCheckpoint):
                continue
            if callback.monitor and callback.best_model_path and Path(callback.best_model_path).is_file():
                found.setdefault("best", callback.best_model_path)
            newest = callback.last_model_path or (None if callback.monitor else callback.best_model_path)
            if newest and Path(newest).is_file():
                found.setdefault("last", newest)
        return found

    @staticmethod
    def latest_grid(trainer: pl.Trainer, run: Path) -> Path | None:
        for callback in trainer.callbacks:
            if isinstance(callback, SampleGrid) and callback.last_path and callback.last_path.is_file():
                return callback.last_path
        grids = sorted((run / "samples").glob("step_*.png"))
        return grids[-1] if grids else None

    @staticmethod
    def logger_lines(trainer: pl.Trainer) -> list[tuple[str, str]]:
        lines = []
        for logger in trainer.loggers:
            if isinstance(logger, _LightningWandbLogger):
                run = logger.experiment
                if getattr(run, "disabled", False):
                    continue
                if run.offline:
                    lines.append(("W&B", f"offline; upload with: wandb sync {shown(run.settings.sync_dir)}"))
                elif run.url:
                    lines.append(("W&B", str(run.url)))
            elif isinstance(logger, TensorBoardLogger):
                lines.append(("TensorBoard", f"tensorboard --logdir {shown(logger.log_dir)}"))
            elif isinstance(logger, CSVLogger):
                lines.append(("metrics CSV", shown(Path(logger.log_dir) / "metrics.csv")))
        return lines

    def lines(self, trainer: pl.Trainer, run: Path) -> list[str]:
        """The summary block (without printing it)."""
        rows: list[tuple[str, str]] = [("run folder", shown(run)), *self.metric_lines()]
        checkpoints = self.checkpoints(trainer)
        if not checkpoints:
            rows.append(
                ("checkpoints", "none written" + ("" if trainer.checkpoint_callbacks else " (checkpointing is off)"))
            )
        if "best" in checkpoints:
            rows.append(("best checkpoint", shown(checkpoints["best"])))
        if "last" in checkpoints:
            rows.append(("last checkpoint", shown(checkpoints["last"])))
        grid = self.latest_grid(trainer, run)
        if grid is not None:
            rows.append(("sample grids", f"{shown(grid.parent)}/ (latest: {grid.name})"))
        rows += self.logger_lines(trainer)
        chosen = checkpoints.get("best") or checkpoints.get("last")
        if chosen is not None:
            run_config = find_run_config(Path(chosen))
            config = "" if run_config else " --config <the run's config.yaml>"
            module = trainer.lightning_module
            task = module if isinstance(module, AdversarialTask) else None
            if task is not None and task.offers("translate"):  # pix2pix, CycleGAN, SRGAN
                command = f"gan-lightning translate {shown(chosen)} --input <images> --out {shown(run / 'translated')}"
                rows.append(("next", f"{command}{config}"))
                rows.append(("", f"gan-lightning export {shown(chosen)} --out {shown(run / 'generator.onnx')}"))
            elif task is not None and task.offers("sample_captions"):  # text-to-image: prompts, held-out captions
                command = f'gan-lightning sample {shown(chosen)} --out {shown(run / "prompts")} --prompt "<a caption>"'
                rows.append(("next", f"{command}{config}"))
                if task.metrics:  # your own captions (metrics: null) have nothing for validate to print
                    validate = shown(run_config) if run_config else "<the run's config.yaml>"
                    rows.append(("", f"lightning validate --config {validate} --ckpt_path {shown(chosen)}"))
            elif task is not None and task.makes_clips:  # video: clips are scored in validation, not by evaluate
                command = f"gan-lightning sample {shown(chosen)} --out {shown(run / 'clips')} --num-images 16"
                rows.append(("next", f"{command}{config}"))
            else:
                rows.append(("next", f"gan-lightning evaluate {shown(chosen)}{config}"))
                rows.append(("", f"gan-lightning sample {shown(chosen)} --out {shown(run / 'sampled')}{config}"))
                rows.append(("", f"gan-lightning export {shown(chosen)} --out {shown(run / 'generator.onnx')}"))
        width = max(len(label) for label, _ in rows) + 2
        title = f"Run finished at iteration {trainer.global_step}"
        return [title, "-" * len(title), *(f"{label:<{width}}{text}" for label, text in rows)]

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        run = run_directory(trainer)  # collective under DDP: every rank calls it
        if trainer.is_global_zero:
            print("\n" + "\n".join(self.lines(trainer, run)), flush=True)
