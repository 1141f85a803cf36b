"""Checkpoints that survive crashes and resume exactly: atomic writes, safe loads with
clear errors, random streams saved with the weights."""

from gan_lightning.checkpoint.atomic_io import (
    AtomicCheckpointIO,
    CheckpointLoadError,
    CheckpointNotFoundError,
    CheckpointWriteError,
    atomic_torch_save,
    load_checkpoint_file,
    use_atomic_checkpoints,
)
from gan_lightning.checkpoint.compatibility import ArchitectureMismatchError, check_state_dict_fits
from gan_lightning.checkpoint.random_state import TrainingRandomState, collect_random_state, restore_random_state

__all__ = [
    "ArchitectureMismatchError",
    "AtomicCheckpointIO",
    "CheckpointLoadError",
    "CheckpointNotFoundError",
    "CheckpointWriteError",
    "TrainingRandomState",
    "atomic_torch_save",
    "check_state_dict_fits",
    "collect_random_state",
    "load_checkpoint_file",
    "restore_random_state",
    "use_atomic_checkpoints",
]
