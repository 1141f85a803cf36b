"""Time to quality, the headline speed number: how long ``lightning fit --config configs/wgan.yaml``
takes to reach a FID within 2× of its real-vs-real floor, eager and with
``--model.init_args.compile=true``, beside this machine's own yardstick: the iterations per
second of a hand-written eager PyTorch loop doing the same maths, measured first, in the same run.

    python -m benchmarks.time_to_quality             # eager and compiled side by side, one thread each
    python -m benchmarks.time_to_quality --sequential --threads 2
    python -m benchmarks.time_to_quality --quick     # 300 iterations, validation every 100: the plumbing

Each variant is the user's command in a child process with a validation every ``--val-every``
iterations (1,000 samples of the EMA generator, the floor beside it) and
:class:`~benchmarks.harness.TrainingClock` recording, per validation, the training seconds before
it (wall and CPU, validation left out). Time to quality is that clock at the first validation
whose FID is within 2× of its floor; the process's whole wall time (start-up, compilation,
validation, checkpoints) is reported beside it. To read the numbers on another machine, compare
its hand-written loop rate (printed first) with the one here.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from benchmarks.harness import (
    CONFIGS,
    TrainingClock,
    add_common_flags,
    add_keep,
    add_steps,
    add_threads,
    finish,
    fit_in_child,
    load_average,
    parser,
    quiet_lightning,
    write_results,
)

CONFIG = CONFIGS / "wgan.yaml"
VARIANTS = {"eager": [], "compiled": ["--model.init_args.compile=true"]}
FACTOR = 2.0


def yardstick(threads: int, steps: int) -> dict[str, float]:
    """This machine's hand-written eager loop on the wgan.yaml recipe: iterations per wall and CPU second."""
    from benchmarks.compile import hand_written_run

    torch.set_num_threads(threads)
    quiet_lightning()
    return hand_written_run("wgan", steps, warmup=3)


def first_within(history: list[dict[str, float]], factor: float = FACTOR) -> dict[str, float] | None:
    """The first validation whose ``val/fid`` is within ``factor`` × its floor (None: never)."""
    for entry in history:
        if "val/fid" in entry and "val/fid_floor" in entry and entry["val/fid"] <= factor * entry["val/fid_floor"]:
            return entry
    return None


def run_variant(variant: str, root: Path, steps: int | None, val_every: int, threads: int) -> dict[str, Any]:
    """The config as a user runs it (``steps`` None: the config's), plus the clock: its record."""
    overrides = [
        f"--trainer.logger.init_args.save_dir={root}",
        f"--trainer.val_check_interval={val_every}",
        "--trainer.callbacks+=benchmarks.harness.TrainingClock",
        *VARIANTS[variant],
    ]
    overrides += [] if steps is None else [f"--trainer.max_steps={steps}"]
    fit, run = fit_in_child(CONFIG, overrides, root, threads)
    fit.check()
    clock_files = sorted(root.rglob(TrainingClock.FILE))
    assert clock_files, f"{variant}: no {TrainingClock.FILE} under {root}"
    clock = json.loads(clock_files[-1].read_text())
    reached = first_within(clock["history"])
    return {
        "variant": variant,
        "command": " ".join(["lightning fit --config configs/wgan.yaml", *VARIANTS[variant]]),
        "process": fit.record(),
        "clock": clock,
        "reached": reached,
        "rate": clock["iterations"] / clock["train_seconds"],
        "cpu_rate": clock["iterations"] / clock["train_cpu_seconds"],
        "run": str(run),
    }


def measure(args: Any) -> dict[str, Any]:
    load_before = load_average()
    baseline = yardstick(args.threads, args.yardstick_steps)
    print(
        f"this machine: hand-written loop {baseline['rate']:.2f} it/s, {baseline['cpu_rate']:.2f} it/CPU-s "
        f"({args.threads} thread(s))",
        flush=True,
    )
    root = Path(args.keep or tempfile.mkdtemp(prefix="time_to_quality_"))
    jobs = 1 if args.sequential else len(args.variants)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(run_variant, variant, root / variant, args.steps, args.val_every, args.threads)
            for variant in args.variants
        ]
        runs = [future.result() for future in futures]
    from benchmarks.compile import machine

    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "threads": args.threads,
        "side_by_side": not args.sequential and len(args.variants) > 1,
        "val_every": args.val_every,
        "factor": FACTOR,
        "yardstick": baseline | {"steps": args.yardstick_steps},
        "runs": runs,
        "load_before": load_before,
        "load_after": load_average(),
    }


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}"


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: per variant, when the FID first came within 2× of its floor."""
    base = results["yardstick"]
    arrangement = "side by side" if results["side_by_side"] else "one after the other"
    lines = [
        f"{results['date']}; {results['machine']}; {results['threads']} thread(s) per run, runs {arrangement}, "
        f"validation every {results['val_every']} iterations (1,000 EMA samples). "
        f"This machine's yardstick, the hand-written eager loop on the same recipe: "
        f"**{base['rate']:.2f} it/s, {base['cpu_rate']:.2f} it/CPU-s**. Load average "
        f"{results['load_before'][0]} → {results['load_after'][0]}.",
        "",
        f"| variant | iteration FID ≤ {results['factor']:g}× floor | FID / floor there | training min to it "
        "(wall) | training CPU-min to it | it/s | × hand-written it/s | it/CPU-s | × hand-written it/CPU-s "
        "| whole process, min | final FID / floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in results["runs"]:
        reached, last = run["reached"], run["clock"]["history"][-1]
        final = last["val/fid"] / last["val/fid_floor"]
        where = "not reached" if reached is None else f"{int(reached['iteration']):,}"
        ratio = "–" if reached is None else f"{reached['val/fid'] / reached['val/fid_floor']:.2f}"
        lines.append(
            f"| {run['variant']} | {where} | {ratio} | {_minutes(reached and reached['train_seconds'])} "
            f"| {_minutes(reached and reached['train_cpu_seconds'])} | {run['rate']:.2f} "
            f"| {run['rate'] / base['rate']:.2f} | {run['cpu_rate']:.2f} | {run['cpu_rate'] / base['cpu_rate']:.2f} "
            f"| {_minutes(run['process']['wall_seconds'])} | {final:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "time_to_quality", "300 iterations, validation every 100, eager only")
    add_threads(command)
    add_steps(command, None, " (default: the config's)")
    command.add_argument("--val-every", type=int, default=500, help="iterations between validations")
    command.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    command.add_argument("--sequential", action="store_true", help="one variant after the other, not side by side")
    command.add_argument("--yardstick-steps", type=int, default=30, help="timed iterations of the hand-written loop")
    add_keep(command, "the runs")
    quick = {"steps": 300, "val_every": 100, "variants": ["eager"], "yardstick_steps": 3}
    args = finish(command.parse_args(argv), "time_to_quality", quick)
    results = {"quick": args.quick} | measure(args)
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
