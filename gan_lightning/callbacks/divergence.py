"""Stop (or skip) a step when training diverges, instead of training on NaNs for hours."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_warn
from torch.optim import Optimizer

from gan_lightning.errors import GanLightningError


class DivergenceError(GanLightningError, RuntimeError):
    """Training produced non-finite values or exploding gradients."""


def last_good_checkpoint(trainer: Trainer) -> str:
    """The newest checkpoint written so far, in words."""
    paths = [
        path
        for callback in trainer.callbacks
        if isinstance(callback, ModelCheckpoint)
        for path in (callback.last_model_path, callback.best_model_path)
        if path
    ]
    if not paths:
        return "No checkpoint has been saved yet: lower the learning rates and start again."
    return f"Resume from the last good checkpoint with --ckpt_path={paths[0]} after lowering the learning rates."


class DivergenceGuard(Callback):
    """Watches every optimizer step for non-finite or exploding gradients and every batch
    for non-finite losses.

    Args:
        action: ``stop`` raises :class:`DivergenceError` naming the iteration, the network
            and the last checkpoint; ``skip`` drops that optimizer step (gradients are
            discarded) and carries on, stopping after ``max_consecutive_skips``.
        max_grad_norm: a gradient norm above this (before clipping) counts as exploding;
            ``null`` checks finiteness only.
        max_consecutive_skips: in ``skip`` mode, give up after this many skips in a row.

    Checks see the gradients after AMP unscaling and after the DDP all-reduce, so every
    rank takes the same decision. With a ``16-mixed`` grad scaler, non-finite gradients are
    the scaler's business (it skips the step and lowers the scale) and are not flagged.
    """

    def __init__(
        self,
        action: Literal["stop", "skip"] = "stop",
        max_grad_norm: float | None = 1.0e5,
        max_consecutive_skips: int = 10,
    ) -> None:
        if action not in ("stop", "skip"):
            raise ValueError(f"DivergenceGuard action must be 'stop' or 'skip', got {action!r}.")
        if max_grad_norm is not None and max_grad_norm <= 0:
            raise ValueError(f"DivergenceGuard max_grad_norm must be positive or null, got {max_grad_norm}.")
        if max_consecutive_skips < 1:
            raise ValueError(f"DivergenceGuard max_consecutive_skips must be >= 1, got {max_consecutive_skips}.")
        self.action = action
        self.max_grad_norm = max_grad_norm
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped_steps = 0
        self._consecutive_skips = 0

    def _network(self, trainer: Trainer, optimizer: Optimizer) -> str:
        names = ("generator", "discriminator")
        raw = [getattr(opt, "optimizer", opt) for opt in trainer.optimizers]
        index = next((i for i, opt in enumerate(raw) if opt is optimizer), None)
        if index is None:
            return "a network"
        return names[index] if len(raw) == 2 else f"optimizer {index}"

    def _fail(self, trainer: Trainer, problem: str) -> None:
        raise DivergenceError(
            f"Training diverged at iteration {trainer.global_step} (epoch {trainer.current_epoch}): {problem}. "
            f"{last_good_checkpoint(trainer)} Common causes: a learning rate too high for the discriminator, a "
            "missing gradient penalty with a Wasserstein loss, fp16 overflow (try bf16-mixed). To skip such "
            "steps instead of stopping, set DivergenceGuard(action='skip')."
        )

    def on_before_optimizer_step(self, trainer: Trainer, pl_module: LightningModule, optimizer: Optimizer) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return
        norm = float(torch.nn.utils.get_total_norm(grads))
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        if not math.isfinite(norm):
            if scaler is not None:
                return
            problem = f"the {self._network(trainer, optimizer)}'s gradients are not finite (norm {norm})"
        elif self.max_grad_norm is not None and norm > self.max_grad_norm:
            problem = (
                f"the {self._network(trainer, optimizer)}'s gradient norm {norm:.3g} exceeds "
                f"max_grad_norm={self.max_grad_norm:g}"
            )
        else:
            self._consecutive_skips = 0
            return
        if self.action == "stop":
            self._fail(trainer, problem)
        self._consecutive_skips += 1
        self.skipped_steps += 1
        if self._consecutive_skips > self.max_consecutive_skips:
            self._fail(trainer, f"{problem}, {self._consecutive_skips} optimizer steps in a row")
        rank_zero_warn(f"DivergenceGuard: skipped an optimizer step at iteration {trainer.global_step}: {problem}.")
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                parameter.grad = None

    def on_train_batch_end(
        self, trainer: Trainer, pl_module: LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if not isinstance(outputs, dict):
            return
        bad = sorted(
            name
            for name, value in outputs.items()
            if "loss" in name and isinstance(value, torch.Tensor) and not torch.isfinite(value).all()
        )
        diverged = trainer.strategy.reduce_boolean_decision(bool(bad), all=False)
        if self.action == "skip":
            pl_module.log("train/skipped_steps", float(self.skipped_steps), batch_size=1)
        if diverged and self.action == "stop":
            self._fail(trainer, f"non-finite loss ({', '.join(bad) or 'on another rank'})")

    def state_dict(self) -> dict[str, Any]:
        return {"skipped_steps": self.skipped_steps}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped_steps = int(state_dict.get("skipped_steps", 0))
