"""Precision against recall over the truncation threshold (BigGAN's truncation trick) for the
main job, ``configs/wgan.yaml``: the curve, not one point; and, apart from it, the D-filter
(samples kept only when the critic scores them at least as high as a quantile of its scores
on training digits), whose numbers are filtered ones and say how many samples were kept.

    python -m benchmarks.truncation --checkpoint runs/<run>/checkpoints/last.ckpt   # score a trained run
    python -m benchmarks.truncation               # trains configs/wgan.yaml first (its full recipe)
    python -m benchmarks.truncation --quick       # 200 iterations, 3 thresholds: the plumbing

Each threshold is ``gan-lightning evaluate CKPT --truncation T`` in a child process (2,000 EMA
samples from noise with every entry within ±T, against the 500 held-out digits; floor =
2,000 training digits), the untruncated draw first; each D-filter quantile Q is
``gan-lightning evaluate CKPT --reject-quantile Q`` on untruncated noise. Precision and recall are Kynkäänniemi et
al.'s (k = 3) on the shipped digit classifier's features, beside their real-vs-real floors.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_keep,
    add_threads,
    finish,
    fit_in_child,
    parser,
    run_child,
    write_results,
)

THRESHOLDS = [None, 2.0, 1.5, 1.0, 0.75, 0.5, 0.25]
REJECT_QUANTILES = [0.1, 0.25, 0.5]
METRICS = ("fid", "precision", "recall", "modes_covered", "class_kl")


def trained_checkpoint(root: Path, steps: int | None, threads: int | None) -> Path:
    """``lightning fit --config configs/wgan.yaml`` (``steps`` None: the config's) under ``root``."""
    overrides = [f"--trainer.logger.init_args.save_dir={root}"]
    overrides += [] if steps is None else [f"--trainer.max_steps={steps}"]
    fit, run = fit_in_child(CONFIGS / "wgan.yaml", overrides, root, threads)
    fit.check()
    assert run is not None, f"no run folder under {root}"
    return run / "checkpoints" / "last.ckpt"


def score(checkpoint: Path, options: list[str], samples: int, out: Path, threads: int | None) -> dict[str, Any]:
    """``gan-lightning evaluate CKPT OPTIONS``: each metric's value and floor, and the filter's record."""
    command = [sys.executable, "-m", "gan_lightning", "evaluate", str(checkpoint), "--num-samples", str(samples)]
    run_child([*command, "--out", str(out), *options], out.with_suffix(".log"), threads).check()
    record = json.loads(out.read_text())
    metrics = {
        name: {"value": record["metrics"][name]["value"], "floor": record["metrics"][name]["floor"]} for name in METRICS
    }
    return {"truncation": record["truncation"], "rejection": record["rejection"]} | metrics


def measure(args: Any) -> dict[str, Any]:
    root = Path(args.keep or tempfile.mkdtemp(prefix="truncation_"))
    checkpoint = args.checkpoint or trained_checkpoint(root, args.steps, args.threads)
    runs = [
        (f"truncation_{'none' if t is None else f'{t:g}'}", [] if t is None else ["--truncation", str(t)])
        for t in args.thresholds
    ]
    runs += [(f"reject_{q:g}", ["--reject-quantile", str(q)]) for q in args.reject_quantiles]
    rows = []
    for name, options in runs:
        rows.append(score(checkpoint, options, args.samples, root / f"{name}.json", args.threads))
        print(f"{name}: " + ", ".join(f"{key} {rows[-1][key]['value']:.3f}" for key in METRICS), flush=True)
    return {
        "checkpoint": str(checkpoint),
        "trained_here": args.checkpoint is None,
        "steps": args.steps,
        "samples": args.samples,
        "rows": rows,
    }


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: one row per threshold, the floors in the header."""
    floors = results["rows"][0]
    lines = [
        f"{results['samples']:,} EMA samples per threshold, 500 held-out digits; floors (real vs real): FID "
        f"{floors['fid']['floor']:.3f}, precision {floors['precision']['floor']:.3f}, "
        f"recall {floors['recall']['floor']:.3f}.",
        "",
        "| noise truncated to | FID | FID / floor | precision | recall | modes covered | class KL |",
        "|---|---|---|---|---|---|---|",
    ]
    plain = [row for row in results["rows"] if not row.get("rejection")]
    filtered = [row for row in results["rows"] if row.get("rejection")]
    for row in plain:
        where = "none (as trained)" if row["truncation"] is None else f"±{row['truncation']:g}"
        lines.append(f"| {where} | {score_cells(row)} |")
    if filtered:
        lines += [
            "",
            "Filtered, on untruncated noise (kept: the share of samples that passed):",
            "",
            "| D-filter: kept when D ≥ its training scores' quantile | kept | FID | FID / floor | precision | recall "
            "| modes covered | class KL |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in filtered:
            rejection = row["rejection"]
            lines.append(f"| {rejection['quantile']:g} | {100 * rejection['acceptance']:.0f} % | {score_cells(row)} |")
    return "\n".join(lines)


def score_cells(row: dict[str, Any]) -> str:
    """A row's cells: FID, FID / floor, precision, recall, modes covered, class KL."""
    fid = row["fid"]
    return (
        f"{fid['value']:.3f} | {fid['value'] / fid['floor']:.2f} | {row['precision']['value']:.3f} "
        f"| {row['recall']['value']:.3f} | {row['modes_covered']['value']:.0f} | {row['class_kl']['value']:.3f}"
    )


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(
        command, "truncation", "200 training iterations, thresholds none / 1 / 0.5, no D-filter, 500 samples"
    )
    add_threads(command, None)
    command.add_argument("--checkpoint", type=Path, help="a trained wgan.yaml run's checkpoint (default: train one)")
    command.add_argument("--steps", type=int, default=None, help="training iterations (default: the config's)")
    command.add_argument("--samples", type=int, default=2000, help="generated images per threshold")
    command.add_argument(
        "--thresholds",
        type=lambda text: None if text == "none" else float(text),
        nargs="+",
        default=THRESHOLDS,
        help="thresholds to score ('none': untruncated)",
    )
    command.add_argument(
        "--reject-quantiles", type=float, nargs="*", default=REJECT_QUANTILES, help="D-filter quantiles to score"
    )
    add_keep(command, "the run and the records")
    quick = {"steps": 200, "thresholds": [None, 1.0, 0.5], "reject_quantiles": [], "samples": 500}
    args = finish(command.parse_args(argv), "truncation", quick)
    results = {"quick": args.quick} | measure(args)
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
