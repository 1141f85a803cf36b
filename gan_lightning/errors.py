"""The project's own errors: problems the user must fix, with a message that says how.

Every error the package raises for bad input (configuration, data, checkpoints, command
arguments) derives from :class:`GanLightningError` as well as from the built-in type it was
before (``ValueError``, ``FileNotFoundError`` ...), so ``except ValueError`` keeps working.
The command line prints them as one line, ``error: <message>``, without a traceback: the
traceback of a user mistake points at our code, not at the mistake. Anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

from lightning.fabric.utilities.exceptions import MisconfigurationException


class GanLightningError(Exception):
    """Base of the errors a user fixes (a path, a value, a checkpoint); never a bug."""


class CommandLineError(GanLightningError, ValueError):
    """A value given to ``gan-lightning evaluate`` / ``sample`` that the command cannot use."""


class RunConfigNotFoundError(GanLightningError, FileNotFoundError):
    """A checkpoint command found no ``config.yaml`` to rebuild the model or the data from."""


class WeightsNotFoundError(GanLightningError, FileNotFoundError):
    """A feature network's local weights file (Inception, the MNIST classifier, a perceptual
    loss's network) is not where the configuration says; nothing is downloaded."""


# torch re-raises an error from a DataLoader worker as the same type with the worker's
# traceback in the message ("Caught X in DataLoader worker process 0. Original Traceback ...").
_WORKER_TRACEBACK = re.compile(r"Original Traceback \(most recent call last\):.*\n(?:[\w.]+: )?(.+)\s*$", re.S)


class DataSetupError(GanLightningError, RuntimeError):
    """A data module failed to prepare or set up its data: the user's path, files or settings."""


#: Built-in errors that our own code raises on purpose, with a message for the user.
DELIBERATE = (ValueError, TypeError, LookupError, OSError, RuntimeError, NotImplementedError)
PACKAGE_ROOT = str(Path(__file__).resolve().parent)


def raised_by_the_package(error: BaseException) -> bool:
    """Whether ``error`` was raised by a line of gan_lightning itself (not by torch, Lightning
    or an assert): our raise sites are checks of the user's input, with a message saying what
    to fix. An error raised deeper, inside a library, is a bug report and keeps its traceback."""
    if not isinstance(error, DELIBERATE) or isinstance(error, AssertionError):
        return False
    traceback = error.__traceback__
    if traceback is None:
        return False
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return str(Path(traceback.tb_frame.f_code.co_filename).resolve()).startswith(PACKAGE_ROOT)


def is_user_error(error: BaseException) -> bool:
    """Caused by the user's input or configuration, whatever its class: the project's own
    errors, a data module's failure to set up, a check raised by the package itself, an
    ``OSError`` naming a path (:func:`is_path_error`), or Lightning's
    ``MisconfigurationException`` (its class for "this Trainer setting cannot work":
    ``--trainer.accelerator=gpu`` without a GPU, a negative ``max_steps``)."""
    return (
        isinstance(error, GanLightningError | MisconfigurationException)
        or is_path_error(error)
        or raised_by_the_package(error)
    )


def is_path_error(error: BaseException) -> bool:
    """An ``OSError`` about a named file (no such folder, no permission, a full disk): the
    path is one the user gave (``--out``, ``save_dir``, a data root), wherever it was opened."""
    return isinstance(error, OSError) and error.filename is not None and error.strerror is not None


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line: a DataLoader worker's traceback is dropped
    (its last line is the message) and line breaks become spaces; a path error names the
    path first."""
    if is_path_error(error) and not isinstance(error, GanLightningError):
        assert isinstance(error, OSError)
        return (
            f"{error.filename}: {error.strerror}. Check that path (its folder exists, you can write there, "
            f"the disk has room)."
        )
    message = str(error)
    found = _WORKER_TRACEBACK.search(message)
    if found:
        message = found.group(1)
    return " ".join(message.split()) or type(error).__name__


class CapabilityError(GanLightningError, TypeError):
    """A command or callback asked a task for something it does not do (translate a noise
    GAN, sample captions from an unconditional one)."""
