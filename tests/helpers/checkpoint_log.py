"""A CheckpointIO for distributed tests (``--trainer.plugins``): which rank wrote which file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gan_lightning.checkpoint import AtomicCheckpointIO


class LoggedCheckpointIO(AtomicCheckpointIO):
    """AtomicCheckpointIO that appends ``<global rank> <path>`` to ``log`` for every file written."""

    def __init__(self, log: str) -> None:
        super().__init__()
        self.log = Path(log)

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        super().save_checkpoint(checkpoint, path, storage_options)
        with self.log.open("a") as handle:
            handle.write(f"{os.environ.get('RANK', '0')} {path}\n")
