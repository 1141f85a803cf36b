"""The user's main command, timed and scored: ``lightning fit --config configs/wgan.yaml``.

Issue 11's target: the run ends with a FID within 2× of its real-vs-real floor, in at most 15
minutes of training on a 2-core CPU. This script runs the command exactly as a user types it
(plus a run folder), times it end to end (start-up, validation and checkpoints included),
then scores ``last.ckpt`` with ``gan-lightning evaluate`` (2,000 EMA samples against the 500
held-out digits; floor = 2,000 training digits) and records the end-of-fit summary's
validation FID too.

    python benchmarks/wgan_floor.py                # the full run (~15 min on 2 idle cores)
    python benchmarks/wgan_floor.py --quick        # 1,000 iterations: the plumbing, not the target
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "wgan.yaml"
BUDGET_SECONDS = 15 * 60
QUICK_STEPS = 1_000


def run_fit(run_dir: Path, max_steps: int | None, threads: int | None) -> tuple[float, str]:
    """``lightning fit --config configs/wgan.yaml`` in a child process: (wall seconds, output)."""
    command = [sys.executable, "-m", "gan_lightning", "fit", "--config", str(CONFIG)]
    command += [f"--trainer.default_root_dir={run_dir}", f"--trainer.logger.init_args.save_dir={run_dir}"]
    if max_steps is not None:
        command.append(f"--trainer.max_steps={max_steps}")
    env = dict(os.environ, WANDB_MODE="offline")
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    # stderr (Lightning's progress bar, warnings) goes to the terminal; stdout holds the summary
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    print(result.stdout[-2000:])
    if result.returncode != 0:
        raise SystemExit("lightning fit failed (its error is above)")
    return seconds, result.stdout


def summary_fid(output: str) -> dict[str, float] | None:
    """The end-of-fit summary's ``val/fid  X best, at iteration N  (floor F ...)`` line."""
    match = re.search(r"val/fid\s+([\d.]+) best, at iteration (\d+)\s+\(floor ([\d.]+)", output)
    if match is None:
        return None
    return {"best": float(match[1]), "iteration": int(match[2]), "floor": float(match[3])}


def evaluate(checkpoint: Path) -> dict[str, Any]:
    out = checkpoint.with_suffix(".metrics.json")
    command = [sys.executable, "-m", "gan_lightning", "evaluate", str(checkpoint), "--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"gan-lightning evaluate failed:\n{result.stderr[-3000:]}")
    return json.loads(out.read_text())


def measure(quick: bool, threads: int | None, keep: Path | None) -> dict[str, Any]:
    run_dir = keep or Path(tempfile.mkdtemp(prefix="wgan_floor_"))
    load_before = os.getloadavg()[0]
    seconds, output = run_fit(run_dir, QUICK_STEPS if quick else None, threads)
    load_after = os.getloadavg()[0]
    (checkpoint,) = run_dir.glob("gan-lightning/*/checkpoints/last.ckpt")
    record = evaluate(checkpoint)
    metrics = {name: entry["value"] for name, entry in record["metrics"].items()}
    floors = {name: entry["floor"] for name, entry in record["metrics"].items() if entry["floor"] is not None}
    return {
        "quick": quick,
        "command": "lightning fit --config configs/wgan.yaml"
        + (f" --trainer.max_steps={QUICK_STEPS}" if quick else ""),
        "wall_seconds": seconds,
        "budget_seconds": BUDGET_SECONDS,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "threads": threads or os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "summary": summary_fid(output),
        "metrics": metrics,
        "floors": floors,
        "sample_counts": record["sample_counts"],
        "grid": str(max(run_dir.glob("gan-lightning/*/samples/step_*.png"))),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS:,} iterations instead of the config's")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS of the run (default: all cores)")
    parser.add_argument("--keep", type=Path, default=None, help="run folder to keep (default: a temporary one)")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "wgan_floor.json")
    args = parser.parse_args()
    results = measure(args.quick, args.threads, args.keep)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))


if __name__ == "__main__":
    main()
