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


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line: a DataLoader worker's traceback is dropped
    (its last line is the message) and line breaks become spaces."""
    message = str(error)
    found = _WORKER_TRACEBACK.search(message)
    if found:
        message = found.group(1)
    return " ".join(message.split()) or type(error).__name__


class CapabilityError(GanLightningError, TypeError):
    """A command or callback asked a task for something it does not do (translate a noise
    GAN, sample captions from an unconditional one)."""
