"""Random number streams saved in checkpoints, so a resumed run draws the same noise."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_warn


def collect_random_state() -> dict[str, Any]:
    """torch (CPU and CUDA), numpy and ``random`` states, in types ``torch.load(weights_only=True)`` accepts."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "position": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_random_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    numpy_state = state["numpy"]
    np.random.set_state(
        (
            numpy_state["kind"],
            numpy_state["keys"].numpy().astype(np.uint32),
            numpy_state["position"],
            numpy_state["has_gauss"],
            numpy_state["cached_gaussian"],
        )
    )
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


class TrainingRandomState(Callback):
    """Makes resumed runs draw the same random numbers as uninterrupted ones.

    * Saves every rank's RNG states in the checkpoint and restores them when training
      resumes (``on_train_start``, after the sanity check and data loader set-up).
    * Validation runs on a forked stream: it neither consumes nor changes the training
      stream, so whether a resumed run repeats a validation pass does not matter.

    GAN modules add it themselves (``configure_callbacks``).
    """

    def __init__(self) -> None:
        self._to_restore: list[dict[str, Any]] | None = None
        self._outside_validation: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        state = collect_random_state()
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list[Any] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, state)
            return {"per_rank": gathered}
        return {"per_rank": [state]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._to_restore = state_dict.get("per_rank")

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._to_restore:
            return
        states, self._to_restore = self._to_restore, None
        if len(states) != trainer.world_size:
            rank_zero_warn(
                f"The checkpoint holds random states of {len(states)} process(es) but this run has "
                f"{trainer.world_size}: noise after resuming will differ from an uninterrupted run."
            )
            return
        restore_random_state(states[trainer.global_rank])

    def on_validation_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._outside_validation = collect_random_state()

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if self._outside_validation is not None:
            restore_random_state(self._outside_validation)
            self._outside_validation = None
