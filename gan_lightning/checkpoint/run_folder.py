"""Where a CLI run keeps what belongs to a checkpoint: its resolved ``config.yaml``."""

from __future__ import annotations

from pathlib import Path


def find_run_config(checkpoint: Path) -> Path | None:
    """``<run>/config.yaml`` for ``<run>/checkpoints/x.ckpt`` (or a config beside the file)."""
    for folder in (checkpoint.parent.parent, checkpoint.parent):
        candidate = folder / "config.yaml"
        if candidate.is_file():
            return candidate
    return None
