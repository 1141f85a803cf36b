"""Preemption as clusters do it: a signal saves the iteration under way and ends the run cleanly.

A cluster that takes a job's machines back sends SIGTERM (SLURM, Kubernetes, torchrun
passing it on) and kills the job a grace period later; SLURM's ``#SBATCH --signal=SIGUSR1@90``
warns 90 s before the time limit. Lightning 2.6 on its own, on SIGTERM, stops after the
current batch with ``SIGTERMException`` and writes nothing; under SLURM with auto-requeue it
saves an ``hpc_ckpt_N.ckpt`` *inside* the SIGUSR1 handler, i.e. wherever the signal lands
(between D and G updates, inside a collective), which neither resumes exactly nor is safe
under DDP (the handler runs a barrier and a broadcast that can pair with another rank's
gradient all-reduce).

:class:`Preemption` replaces both handlers for the training loop with one that only
records the signal. At the end of each iteration, where the periodic checkpoints are written
(so resuming is exact, ``tests/test_resume.py``), the ranks agree whether any of them was
signalled (one boolean all-reduce), write ``last.ckpt`` of the run's checkpoint callback
once (global rank 0 writes), print one line and raise Lightning's ``SIGTERMException``: the
process exits with status 0 and no traceback. Under SLURM with Lightning's auto-requeue on,
the requeue signal also requeues the job (``scontrol requeue``), as Lightning does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import lightning.pytorch as pl
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from lightning.pytorch.utilities.exceptions import SIGTERMException

from gan_lightning.seams import last_saved_step, save_last_checkpoint

#: Written in ``default_root_dir`` when the run keeps no ``last.ckpt``.
FALLBACK_NAME = "preempted.ckpt"


def slurm_job_id() -> str | None:
    """The id ``scontrol requeue`` takes: ``<array job>_<task>`` for an array task."""
    array_job = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array_job is not None:
        return f"{array_job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return os.environ.get("SLURM_JOB_ID")


def requeue_slurm_job() -> bool:
    """``scontrol requeue`` this SLURM job; whether it worked (a warning says why not)."""
    job_id = slurm_job_id()
    if job_id is None:
        return False
    try:
        result = subprocess.run(["scontrol", "requeue", job_id], capture_output=True, text=True)
    except FileNotFoundError:
        rank_zero_warn(f"Could not requeue SLURM job {job_id}: scontrol not found.")
        return False
    if result.returncode != 0:
        rank_zero_warn(f"Could not requeue SLURM job {job_id}: {' '.join(result.stderr.split())}")
    return result.returncode == 0


class Preemption(Checkpoint):
    """On any of ``signals``: a checkpoint at the end of the current iteration, one line, exit 0.

    The checkpoint is the run's ``last.ckpt`` (the first ``ModelCheckpoint`` with
    ``save_last``: the CLI's ``--checkpoint``), so resuming is ``--ckpt_path=<...>/last.ckpt``
    or ``--ckpt_path=last``; without one it is ``<default_root_dir>/preempted.ckpt``. A
    ``Checkpoint`` subclass so that Lightning runs it after every other callback's
    ``on_train_batch_end`` (the EMA, sample grids and the periodic checkpoint have run); being
    one, it also keeps Lightning from adding its default ``ModelCheckpoint`` to a Python
    ``Trainer``, so add one with ``save_last=True`` beside it (the CLI has ``--checkpoint``).
    A signal that arrives during validation takes effect at the end of the next iteration.
    Costs one boolean all-reduce per iteration under DDP, nothing on one process.
    """

    def __init__(self, signals: Sequence[str] = ("SIGTERM", "SIGUSR1")) -> None:
        self.signals = tuple(signals)
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Install the handlers after Lightning installed its own (``Trainer._run`` registers
        them before the loop starts) so that ours replace its SIGTERM and SLURM handlers."""
        self.received = None
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.signals:
            number = getattr(signal, name, None)  # no SIGUSR1 on Windows
            if number is not None:
                self._previous[number] = signal.signal(number, self._record)

    def _record(self, signum: int, frame: FrameType | None) -> None:
        """The handler: remember the signal, nothing else (no I/O, no collectives)."""
        self.received = signal.Signals(signum)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if not trainer.strategy.reduce_boolean_decision(self.received is not None, all=False):
            return
        path = self.save(trainer)
        what = self.received.name if self.received is not None else "a preemption signal on another rank"
        rank_zero_info(
            f"Preempted ({what}) at iteration {trainer.global_step}: saved {path}; resume with --ckpt_path={path}"
        )
        if self.received is not None and requeues_on(trainer, self.received) and trainer.is_global_zero:
            requeue_slurm_job()
        raise SIGTERMException()

    def save(self, trainer: pl.Trainer) -> Path:
        """Write the checkpoint of the current iteration (every rank calls it; rank 0 writes)."""
        periodic = next(
            (cb for cb in trainer.checkpoint_callbacks if isinstance(cb, ModelCheckpoint) and cb.save_last), None
        )
        if periodic is None:
            path = Path(trainer.default_root_dir) / FALLBACK_NAME
            trainer.save_checkpoint(path)
            return path
        if last_saved_step(periodic) != trainer.global_step or not periodic.last_model_path:
            save_last_checkpoint(periodic, trainer)
        return Path(periodic.last_model_path)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._restore_handlers()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._restore_handlers()

    def _restore_handlers(self) -> None:
        """Put back what was installed before (Lightning's handlers, which it removes at teardown)."""
        if threading.current_thread() is threading.main_thread():
            for number, handler in self._previous.items():
                signal.signal(number, handler)
        self._previous = {}


def requeues_on(trainer: pl.Trainer, received: signal.Signals) -> bool:
    """Whether ``received`` is the requeue signal of a SLURM job with Lightning's auto-requeue on
    (``SLURMEnvironment(auto_requeue=True, requeue_signal=SIGUSR1)``, the defaults under srun)."""
    environment = getattr(trainer.strategy, "cluster_environment", None)
    if environment is None:  # one device: SingleDeviceStrategy keeps no environment, SLURM's defaults apply
        return SLURMEnvironment.detect() and received == signal.SIGUSR1
    return (
        isinstance(environment, SLURMEnvironment)
        and environment.auto_requeue
        and environment.requeue_signal == received
    )
