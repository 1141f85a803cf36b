"""What every benchmark shares: where files go, mean ± standard error, the training clock, the
bare Trainer, CLI runs (in this process or a child one) and the common command-line flags.

A benchmark is ``benchmarks/NAME.py`` (or a package), run from the repository root as
``python -m benchmarks.NAME``; it writes ``benchmarks/results/NAME.json`` (``NAME_quick.json``
under ``--quick``) and its ``report(results) -> str`` renders that file's block of
BENCHMARKS.md (benchmarks/run.py). Iterations are generator updates everywhere (``--steps``,
``trainer.global_step``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import lightning.pytorch as pl

if TYPE_CHECKING:
    from gan_lightning.cli import GANLightningCLI

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"
CONFIGS = ROOT / "configs"


# ---------------------------------------------------------------------------------------------
# Files


def results_file(name: str, quick: bool, folder: Path = RESULTS) -> Path:
    """``NAME.json``, or ``NAME_quick.json`` for a quick run, which never overwrites the full numbers."""
    return folder / f"{name}{'_quick' if quick else ''}.json"


def shown(path: Path | str) -> str:
    """``path`` relative to the repository when inside it: what results files and commands record."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_results(path: Path, results: Mapping[str, Any]) -> None:
    """The results JSON, written whole (callers write again after each run, so a crash keeps the rest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1) + "\n")


def load_average() -> list[float]:
    """The 1-, 5- and 15-minute load averages: a timing means little without them on a shared machine."""
    return [round(value, 2) for value in os.getloadavg()]


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (benchmarks run without a display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: Path) -> None:
    """``figure`` as a 256-colour PNG, closed: heat maps would otherwise make files of 200+ KB for the docs."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    figure.savefig(buffer, dpi=90)
    pyplot().close(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(buffer).convert("RGB").quantize(colors=256).save(path, optimize=True)


# ---------------------------------------------------------------------------------------------
# Statistics over seeds


class MeanSE(TypedDict):
    """A mean over ``n`` values and its standard error (None when ``n`` is 1)."""

    mean: float
    se: float | None
    n: int


def mean_and_stderr(values: Sequence[float]) -> MeanSE:
    """Mean and standard error of the mean: sample standard deviation (n − 1) / √n.

    With one value there is no spread to estimate, so ``se`` is None (``null`` in a results
    file) and :func:`format_mean_se` shows the mean alone: never "± 0", which would claim a
    spread was measured and found to be zero.
    """
    n = len(values)
    if n == 0:
        raise ValueError("No values to average.")
    mean = sum(values) / n
    if n == 1:
        return {"mean": mean, "se": None, "n": 1}
    variance = sum((value - mean) ** 2 for value in values) / (n - 1)
    return {"mean": mean, "se": math.sqrt(variance / n), "n": n}


def format_mean_se(
    stat: Mapping[str, Any], digits: int = 1, scale: float = 1.0, signed: bool = False, separator: str = " ± "
) -> str:
    """``mean ± se`` with ``digits`` decimals (both times ``scale``; ``signed``: a + on a
    positive mean), or the mean alone for one value: ``n`` decides, so results files written
    when one value stored ``se`` 0 render the same way."""
    sign = "+" if signed else ""
    mean = f"{scale * stat['mean']:{sign}.{digits}f}"
    if stat["n"] < 2:
        return mean
    return f"{mean}{separator}{scale * stat['se']:.{digits}f}"


# ---------------------------------------------------------------------------------------------
# Timing and the bare Trainer


class TrainingClock(pl.Callback):
    """Seconds of training from iteration ``warmup`` on, validation left out.

    Lightning's ``max_time`` and ``Timer`` count validation as training; a speed or a
    FID-against-time curve needs the updates alone. After fit: ``iterations`` timed,
    ``seconds``, ``rate`` (iterations per second) and ``history``: per validation, the
    iteration, the training seconds (wall and this process's CPU) before it and the ``val/*``
    metrics it logged. With a
    logger, the record is also written to ``<log_dir>/training_clock.json`` (how a child
    process hands it back: ``--trainer.callbacks+=benchmarks.harness.TrainingClock``).
    """

    FILE = "training_clock.json"

    def __init__(self, warmup: int = 0) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.cpu_start = 0.0
        self.start_iteration = 0
        self.validation_start: float | None = None
        self.validation_cpu_start = 0.0
        self.validation_seconds = 0.0
        self.validation_cpu_seconds = 0.0
        self.history: list[dict[str, float]] = []
        self.iterations = 0
        self.seconds = math.nan

    @property
    def rate(self) -> float:
        return self.iterations / self.seconds

    def training_seconds(self, now: float) -> float:
        assert self.start is not None, "the clock has not started (fewer iterations than its warm-up?)"
        return now - self.start - self.validation_seconds

    def training_cpu_seconds(self, now: float) -> float:
        return now - self.cpu_start - self.validation_cpu_seconds

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if self.start is None and trainer.global_step >= self.warmup:
            self.start, self.start_iteration = time.perf_counter(), trainer.global_step
            self.cpu_start = time.process_time()

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.start is not None and not trainer.sanity_checking:
            self.validation_start, self.validation_cpu_start = time.perf_counter(), time.process_time()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.validation_start is None:
            return
        metrics = {key: float(value) for key, value in trainer.callback_metrics.items() if key.startswith("val/")}
        seconds = self.training_seconds(self.validation_start)
        cpu_seconds = self.training_cpu_seconds(self.validation_cpu_start)
        self.history.append(
            {"iteration": trainer.global_step, "train_seconds": seconds, "train_cpu_seconds": cpu_seconds, **metrics}
        )
        self.validation_seconds += time.perf_counter() - self.validation_start
        self.validation_cpu_seconds += time.process_time() - self.validation_cpu_start
        self.validation_start = None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.seconds = self.training_seconds(time.perf_counter())
        self.iterations = trainer.global_step - self.start_iteration
        record = {
            "iterations": self.iterations,
            "train_seconds": self.seconds,
            "train_cpu_seconds": self.training_cpu_seconds(time.process_time()),
            "validation_seconds": self.validation_seconds,
            "history": self.history,
        }
        if trainer.logger is not None and trainer.is_global_zero and trainer.log_dir is not None:
            Path(trainer.log_dir, self.FILE).write_text(json.dumps(record, indent=1))


class Every(pl.Callback):
    """Calls ``probe(module, iteration)`` (without gradients) every ``every`` iterations and at
    the last, under a progress bar of ``total`` iterations."""

    def __init__(
        self, every: int, probe: Callable[[pl.LightningModule, int], None], total: int, description: str
    ) -> None:
        from tqdm.auto import tqdm

        self.every, self.probe = every, probe
        self.bar = tqdm(total=total, desc=description, unit="it", leave=False)

    def on_train_batch_end(
        self, trainer: pl.Trainer, module: pl.LightningModule, outputs: Any, batch: Any, idx: int
    ) -> None:
        import torch

        iteration = trainer.global_step
        self.bar.update(1)
        if iteration % self.every == 0 or iteration == trainer.max_steps:
            with torch.no_grad():
                self.probe(module, iteration)

    def on_train_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self.bar.close()


def bare_trainer(max_steps: int, callbacks: list[pl.Callback] | None = None, **options: Any) -> pl.Trainer:
    """A Trainer with nothing but the training loop: CPU, no logger, checkpoints, progress bar,
    model summary or validation. ``options`` override any of these (and add others)."""
    settings = {
        "accelerator": "cpu",
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "num_sanity_val_steps": 0,
        "limit_val_batches": 0,
    }
    return pl.Trainer(max_steps=max_steps, callbacks=callbacks, **(settings | options))


def quiet_lightning() -> None:
    """Benchmarks print their own tables: Lightning's warnings and info lines would bury them."""
    warnings.filterwarnings("ignore")
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


# ---------------------------------------------------------------------------------------------
# The project's CLI, in this process or in a child one


def cli_in_process(
    config: Path | str, *overrides: str, root: Path | None = None, progress: bool = True, run: bool = True
) -> GANLightningCLI:
    """``lightning fit --config CONFIG OVERRIDES`` in this process, quietly: CPU, no logger, no
    Lightning progress bar (``progress``: an iteration counter instead), no model summary, files
    under ``root``. ``run=False`` builds the model, data and trainer without fitting."""
    from gan_lightning.cli import GANLightningCLI

    args = ["--config", str(config), "--trainer.accelerator=cpu", "--trainer.logger=false"]
    args += ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
    if progress:
        args.append("--trainer.callbacks+=gan_lightning.callbacks.IterationProgressBar")
    if root is not None:
        args.append(f"--trainer.default_root_dir={root}")
    return GANLightningCLI(args=(["fit"] if run else []) + args + list(overrides), run=run)


@dataclass(frozen=True)
class ChildRun:
    """A finished child process: exit code, wall time, peak resident memory and its output file."""

    command: list[str]
    returncode: int
    seconds: float
    peak_memory_mb: float
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def check(self) -> ChildRun:
        """This run, or SystemExit with the end of its output when it failed."""
        if self.returncode != 0:
            raise SystemExit(f"{' '.join(self.command[1:4])} failed (exit {self.returncode}):\n{self.output()[-3000:]}")
        return self

    def record(self) -> dict[str, Any]:
        """What a results file keeps of the run."""
        return {"returncode": self.returncode, "wall_seconds": self.seconds, "peak_memory_mb": self.peak_memory_mb}


def child_environment(threads: int | None) -> dict[str, str]:
    """This environment with W&B offline and, when ``threads`` is given, that many OpenMP/MKL
    threads (None: the library default, every core)."""
    environment = os.environ | {"WANDB_MODE": "offline"}
    if threads:
        environment |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return environment


def run_child(command: list[str], log: Path, threads: int | None = 1, timeout: float | None = None) -> ChildRun:
    """Run ``command`` from the repository root (so ``-m`` finds this checkout's packages), its
    output into ``log``; killed after ``timeout`` seconds. Peak memory is ``wait4``'s: this
    child's own, not the maximum over every child so far."""
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=child_environment(threads), stdout=out, stderr=subprocess.STDOUT
        )
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - start > timeout:
                process.kill()
            time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    return ChildRun(command, process.returncode, seconds, usage.ru_maxrss / 1024, log)  # kilobytes on Linux


def fit_in_child(
    config: Path | str, overrides: Iterable[str], root: Path, threads: int | None = 1, timeout: float | None = None
) -> tuple[ChildRun, Path | None]:
    """``python -m gan_lightning fit --config CONFIG OVERRIDES`` with its files under ``root``
    (output in ``root/fit.log``): the process and its run folder (None if it made none)."""
    command = [sys.executable, "-m", "gan_lightning", "fit", "--config", str(config)]
    command += [f"--trainer.default_root_dir={root}", *overrides]
    child = run_child(command, root / "fit.log", threads, timeout)
    return child, run_folder(root)


def run_folder(root: Path) -> Path | None:
    """The folder of the run under ``root``: the parent of its ``checkpoints/`` folder, which
    also holds its config.yaml, sample grids and (with a CSV logger) metrics.csv."""
    folders = sorted(path.parent for path in root.rglob("checkpoints") if path.is_dir())
    return folders[-1] if folders else None


def evaluate_in_child(
    checkpoint: Path, threads: int | None = 1, timeout: float | None = None
) -> tuple[ChildRun, dict[str, Any] | None]:
    """``gan-lightning evaluate CHECKPOINT`` in a child process: the process and the metrics
    record it wrote beside the checkpoint (None if it failed)."""
    out = checkpoint.with_suffix(".metrics.json")
    command = [sys.executable, "-m", "gan_lightning", "evaluate", str(checkpoint), "--out", str(out)]
    child = run_child(command, checkpoint.with_suffix(".evaluate.log"), threads, timeout)
    return child, json.loads(out.read_text()) if child.returncode == 0 else None


# ---------------------------------------------------------------------------------------------
# Command-line flags


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose ``--help`` shows the script's docstring as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_common_flags(command: argparse.ArgumentParser, name: str, quick: str) -> None:
    """The flags every benchmark takes: ``--out`` and ``--quick`` (``quick`` says what it does)."""
    command.add_argument("--out", type=Path, help=f"results JSON (default benchmarks/results/{name}[_quick].json)")
    command.add_argument("--quick", action="store_true", help=f"{quick}; results marked quick, in *_quick.json")


def add_threads(command: argparse.ArgumentParser, default: int | None = 1) -> None:
    """``--threads``: CPU threads of each run (None: every core)."""
    command.add_argument(
        "--threads", type=int, default=default, help=f"CPU threads per run (default {default or 'every core'})"
    )


def add_steps(command: argparse.ArgumentParser, default: int | None, more: str = "") -> None:
    """``--steps``: iterations, i.e. generator updates, per run."""
    command.add_argument("--steps", type=int, default=default, help=f"iterations (generator updates) per run{more}")


def add_keep(command: argparse.ArgumentParser, what: str = "the runs") -> None:
    """``--keep``: a folder for what the children write, kept afterwards (default: a temporary one)."""
    command.add_argument("--keep", type=Path, default=None, help=f"folder for {what} (default: a temporary one)")


def add_seeds(command: argparse.ArgumentParser, default: list[int]) -> None:
    """``--seeds``: the seeds to run, one run each."""
    command.add_argument("--seeds", type=int, nargs="+", default=default, help="seeds, one run each")


def finish(args: argparse.Namespace, name: str, quick: Mapping[str, Any] | None = None) -> argparse.Namespace:
    """Parsed flags made final: under ``--quick`` the ``quick`` settings replace the flags'
    values, and ``--out`` defaults to benchmarks/results/NAME[_quick].json."""
    if args.quick:
        for key, value in (quick or {}).items():
            setattr(args, key, value)
    args.out = args.out or results_file(name, args.quick)
    return args
