"""Checkpoint files that are either complete or absent, and loads that explain failures."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Trainer
from lightning.pytorch.plugins import TorchCheckpointIO

from gan_lightning.errors import GanLightningError, one_line


class CheckpointLoadError(GanLightningError, RuntimeError):
    """A checkpoint file could not be read; the message says why and what to do."""


class CheckpointNotFoundError(CheckpointLoadError, FileNotFoundError):
    """No file at the checkpoint path."""


class CheckpointWriteError(GanLightningError, OSError):
    """A checkpoint could not be written (full disk, no permission, quota); the file it was
    to replace is intact. A user's problem to fix, so the CLI reports it in one line."""


def _fsync_directory(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file in the same folder, fsync, then ``os.replace``.

    ``os.replace`` is atomic on POSIX and Windows when source and target are on the same
    file system, so a crash (kill, OOM, full disk) while saving leaves the previous file
    at ``path`` untouched and at worst a stray ``.<name>.*.tmp`` file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _other_checkpoints(path: Path) -> str:
    others = sorted(p.name for p in path.parent.glob("*.ckpt") if p != path)
    if not others:
        return "There is no other checkpoint in that folder."
    return f"Other checkpoints in {path.parent}: {', '.join(others[-5:])}."


def _first_line(error: BaseException) -> str:
    """The first line of ``error``'s message, or its class name when it has none (torch's
    unpickler raises a bare ``EOFError`` on an empty file)."""
    lines = str(error).splitlines()
    return lines[0] if lines else type(error).__name__


def _looks_like_torch_save(path: Path) -> bool:
    """Whether ``path`` starts as ``torch.save`` output does: a zip archive, or a pickle
    (protocol 2+ starts with byte 0x80), so a text file or an image is named for what it is
    rather than reported as unsafe pickled code. An empty file or a cut-short zip still passes
    and gets the "truncated or corrupt" message: that is what a crash leaves."""
    with path.open("rb") as file:
        head = file.read(2)
    return head in (b"", b"P") or head.startswith(b"PK") or head[:1] == b"\x80"


def load_checkpoint_file(path: str | os.PathLike, map_location: Any = "cpu", weights_only: bool = True) -> Any:
    """``torch.load`` with ``weights_only=True`` by default, so loading a checkpoint cannot
    run pickled code, and with errors that say what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointNotFoundError(
            f"Checkpoint not found: {path}. Check the path given (the CKPT argument, or --ckpt_path of fit/validate)."
        )
    if not _looks_like_torch_save(path):
        raise CheckpointLoadError(
            f"{path} is not a checkpoint: torch.save writes a zip archive (or, before torch 1.6, a pickle), "
            f"and this file is neither. Pass the .ckpt that `lightning fit` wrote "
            f"(<run folder>/checkpoints/last.ckpt)."
        )
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as error:
        if not weights_only:
            raise
        raise CheckpointLoadError(
            f"{path} contains pickled Python objects that are not plain tensors or containers, so it was not "
            f"loaded with weights_only=True (loading it could run arbitrary code). If you made this file "
            f"yourself and trust it, load it with weights_only=False (Trainer.fit(..., weights_only=False)). "
            f"Details: {_first_line(error)}"
        ) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as error:
        size = path.stat().st_size
        raise CheckpointLoadError(
            f"{path} ({size} bytes) is truncated or corrupt and cannot be read ({_first_line(error)}). "
            f"It was probably cut short by a crash or a full disk while copying. Resume from an earlier "
            f"checkpoint instead. {_other_checkpoints(path)}"
        ) from error


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO`` with fsync'd atomic writes (:func:`atomic_torch_save`;
    a failed write is a one-line :class:`CheckpointWriteError`) and ``weights_only`` loads with
    actionable errors (:func:`load_checkpoint_file`).

    The CLI's ``defaults.yaml`` names it (``trainer.plugins``); pass
    ``plugins=[AtomicCheckpointIO()]`` to use it with any LightningModule in Python (a GAN
    task installs it itself, :func:`use_atomic_checkpoints`).
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options.")
        try:
            atomic_torch_save(checkpoint, path)
        except OSError as error:
            raise CheckpointWriteError(
                f"Could not write the checkpoint {path} ({one_line(error)}); the previous {Path(path).name}, if "
                "there was one, is intact. Free space or fix the folder, then resume from it."
            ) from error

    def load_checkpoint(self, path: Any, map_location: Any = None, weights_only: bool | None = None) -> dict[str, Any]:
        location = map_location if map_location is not None else "cpu"
        return load_checkpoint_file(path, map_location=location, weights_only=weights_only is not False)


def use_atomic_checkpoints(trainer: Trainer) -> None:
    """Give the trainer :class:`AtomicCheckpointIO` unless a custom CheckpointIO was chosen.

    For Trainers built in Python (the CLI's defaults already name the plugin): a task has no
    say in how its Trainer is built, only in its ``setup``, which runs before any checkpoint
    is read or written, so it sets the strategy's public ``checkpoint_io`` there."""
    strategy = trainer.strategy
    if type(strategy.checkpoint_io) is TorchCheckpointIO:
        strategy.checkpoint_io = AtomicCheckpointIO()
