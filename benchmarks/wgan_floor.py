"""The user's main command, timed and scored: ``lightning fit --config configs/wgan.yaml``.

The target ("`wgan.yaml` at the floor" in BENCHMARKS.md): the run ends with a FID within 2× of
its real-vs-real floor, in at most 15 minutes of training on a 2-core CPU. This script runs
the command exactly as a user types it (plus a run folder), times it end to end (start-up,
validation and checkpoints included), then scores ``last.ckpt`` with ``gan-lightning
evaluate`` (2,000 EMA samples against the 500 held-out digits; floor = 2,000 training
digits) and records the end-of-fit summary's validation FID too.

    python -m benchmarks.wgan_floor                # the full run (~15 min on 2 idle cores)
    python -m benchmarks.wgan_floor --quick        # 1,000 iterations: the plumbing, not the target
    python -m benchmarks.wgan_floor --seed 1 --threads 1 --out wgan_floor_s1.json   # another seed
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_keep,
    add_steps,
    add_threads,
    evaluate_in_child,
    finish,
    fit_in_child,
    load_average,
    parser,
    write_results,
)

CONFIG = CONFIGS / "wgan.yaml"
BUDGET_SECONDS = 15 * 60
QUICK_STEPS = 1_000


def summary_fid(output: str) -> dict[str, float] | None:
    """The end-of-fit summary's ``val/fid  X best, at iteration N  (floor F ...)`` line."""
    match = re.search(r"val/fid\s+([\d.]+) best, at iteration (\d+)\s+\(floor ([\d.]+)", output)
    if match is None:
        return None
    return {"best": float(match[1]), "iteration": int(match[2]), "floor": float(match[3])}


def user_flags(steps: int | None, seed: int | None) -> list[str]:
    """The flags a user would add to the command: another length, another seed (None: the config's)."""
    flags = [] if steps is None else [f"--trainer.max_steps={steps}"]
    return flags + ([] if seed is None else [f"--seed_everything={seed}"])


def measure(steps: int | None, threads: int | None, keep: Path | None, seed: int | None = None) -> dict[str, Any]:
    """The command in a child process (``steps``, ``seed`` None: the config's), then its last
    checkpoint scored."""
    run_root = keep or Path(tempfile.mkdtemp(prefix="wgan_floor_"))
    overrides = [f"--trainer.logger.init_args.save_dir={run_root}", *user_flags(steps, seed)]
    load_before = load_average()[0]
    fit, run = fit_in_child(CONFIG, overrides, run_root, threads)
    fit.check()
    load_after = load_average()[0]
    assert run is not None, f"no run folder under {run_root}"
    evaluation, record = evaluate_in_child(run / "checkpoints" / "last.ckpt", threads)
    evaluation.check()
    assert record is not None
    metrics = {name: entry["value"] for name, entry in record["metrics"].items()}
    floors = {name: entry["floor"] for name, entry in record["metrics"].items() if entry["floor"] is not None}
    return {
        "command": " ".join(["lightning fit --config configs/wgan.yaml", *user_flags(steps, seed)]),
        "wall_seconds": fit.seconds,
        "budget_seconds": BUDGET_SECONDS,
        "peak_memory_mb": fit.peak_memory_mb,
        "threads": threads or os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "summary": summary_fid(fit.output()),
        "metrics": metrics,
        "floors": floors,
        "sample_counts": record["sample_counts"],
        "grid": str(max(run.glob("samples/step_*.png"))),
    }


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md block: the run's time and every metric beside its floor."""
    metrics, floors = results["metrics"], results["floors"]
    ratio = metrics["fid"] / floors["fid"]
    minutes = results["wall_seconds"] / 60
    verdict = "met" if ratio <= 2 and results["wall_seconds"] <= results["budget_seconds"] else "not met"
    lines = [
        f"`{results['command']}`: **{minutes:.1f} min** wall clock (start-up, validation and checkpoints "
        f"included), {results['threads']} thread(s), load average {results['load_before']:.1f} before / "
        f"{results['load_after']:.1f} after; peak memory {results['peak_memory_mb']:.0f} MB.",
        "",
        "| metric (`gan-lightning evaluate last.ckpt`, 2,000 EMA samples) | value | floor (real vs real) |",
        "|---|---|---|",
    ]
    for name, value in metrics.items():
        floor = floors.get(name)
        lines.append(f"| {name} | {value:.4g} | {'' if floor is None else f'{floor:.4g}'} |")
    lines.append("")
    lines.append(f"FID / floor = **{ratio:.2f}** (target ≤ 2 in ≤ 15 min: {verdict}).")
    summary = results.get("summary")
    if summary:
        lines.append(
            f"The end-of-fit summary (1,000 samples, its own floor): val/fid {summary['best']:.3f} at iteration "
            f"{summary['iteration']:,}, floor {summary['floor']:.3f} ({summary['best'] / summary['floor']:.2f}×)."
        )
    if results["quick"]:
        lines.insert(0, f"**Quick run** ({QUICK_STEPS:,} iterations): checks the plumbing, not the target.\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "wgan_floor", f"{QUICK_STEPS:,} iterations instead of the config's")
    add_threads(command, None)
    add_steps(command, None, " (default: the config's)")
    add_keep(command, "the run")
    command.add_argument("--seed", type=int, default=None, help="seed_everything (default: the config's, 0)")
    args = finish(command.parse_args(argv), "wgan_floor", {"steps": QUICK_STEPS})
    results = {"quick": args.quick} | measure(args.steps, args.threads, args.keep, args.seed)
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
