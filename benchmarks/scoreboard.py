"""The family scoreboard: every noise→image MNIST-5k config trained for the same wall-clock
budget, then scored by ``gan-lightning evaluate`` (2,000 EMA samples, the shipped MNIST
classifier's features, every metric beside its real-vs-real floor).

    python -m benchmarks.scoreboard --budget 300          # 5 min per config: ≈ 70 min
    python -m benchmarks.scoreboard --quick               # 30 s per config: ≈ 10 min
    python -m benchmarks.scoreboard --configs gan dcgan --budget 30
    python -m benchmarks.scoreboard --render --update-models-md   # from the saved JSON

Each config runs as ``python -m gan_lightning fit --config configs/<name>.yaml`` in its own
process (one at a time, ``OMP_NUM_THREADS=--threads``) with ``--trainer.max_time`` = the
budget. The budget is wall-clock time of the training loop *including* its validations;
validation is time-based (every budget/8 seconds of training, so slow and fast models get
the same number of FID points) and :class:`~benchmarks.harness.TrainingClock` records the
training time *without* validation, the x axis of the FID-against-time plot. Every config gets the same
in-training metrics (``GenerativeMetrics``, mnist features, 1,000 EMA samples, mode
coverage), whatever its YAML says, and a CSV logger instead of W&B.

Writes benchmarks/results/scoreboard.json (``scoreboard_quick.json`` under ``--quick``),
docs/images/scoreboard_<config>.png (the final sample grid of each run),
docs/images/scoreboard_fid_vs_time.png, and prints the Markdown section of BENCHMARKS.md
(:func:`report`). ``--update-models-md`` writes the measured FIDs into docs/models.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    CONFIGS,
    IMAGES,
    ROOT,
    TrainingClock,
    add_common_flags,
    add_threads,
    evaluate_in_child,
    finish,
    fit_in_child,
    parser,
    pyplot,
    write_results,
)
from gan_lightning.checkpoint import load_checkpoint_file

MODELS_MD = ROOT / "docs" / "models.md"


def image_suffix(quick: bool) -> str:
    """Quick runs write their own images, never over the full run's."""
    return "_quick" if quick else ""


def plot_path(quick: bool) -> Path:
    return IMAGES / f"scoreboard_fid_vs_time{image_suffix(quick)}.png"


#: The noise→image configs on MNIST-5k (2D, Stacked MNIST, translation, video and text
#: configs are other tasks with other metrics).
FAMILY = ("gan", "dcgan", "wgan", "wgan_clip", "lsgan", "sngan", "r1", "stylegan", "cgan", "acgan", "augmentation")
#: augmentation.yaml trains on 50 digits per class with validation off, for the augmentation
#: study; here it trains on the whole training split like every other row.
OVERRIDES = {"augmentation": ("--data.init_args.labels_per_class=null", "--trainer.limit_val_batches=1.0")}
#: The metrics of the table, in its column order (names as ``gan-lightning evaluate`` writes them).
METRICS = ("fid", "kid", "precision", "recall", "modes_covered", "class_kl")
VALIDATIONS_PER_BUDGET = 8
QUICK_BUDGET = 30.0
GRID_BYTES = 150_000


def duration(seconds: float) -> str:
    """Lightning's ``DD:HH:MM:SS`` for whole seconds (at least 1)."""
    total = max(1, round(seconds))
    days, rest = divmod(total, 86400)
    return f"{days:02d}:{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"


def fit_overrides(config: str, budget: float, run_root: Path) -> list[str]:
    """What the scoreboard's protocol adds to ``gan_lightning fit --config configs/<config>.yaml``."""
    return [
        f"--trainer.max_time={duration(budget)}",
        "--trainer.max_steps=10000000",
        f"--trainer.val_check_interval={duration(budget / VALIDATIONS_PER_BUDGET)}",
        "--trainer.check_val_every_n_epoch=null",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
        f"--trainer.logger.init_args.save_dir={run_root}",
        f"--trainer.logger.init_args.name={config}",
        f"--trainer.callbacks+={TrainingClock.__module__}.{TrainingClock.__name__}",
        "--model.init_args.metrics=gan_lightning.metrics.GenerativeMetrics",
        "--model.init_args.metrics.init_args.features=mnist",
        "--model.init_args.metrics.init_args.num_samples=1000",
        "--model.init_args.metrics.init_args.mode_coverage=true",
        "--best.monitor=null",
        # No periodic checkpoints: Lightning writes last.ckpt at the end of training only if it
        # wrote none before, so a periodic one would leave last.ckpt at the last multiple of
        # every_n_train_steps when max_time stops the run, not at its end.
        "--checkpoint.every_n_train_steps=1000000000",
        "--samples.every_n_steps=null",
        "--samples.every_n_epochs=null",
        *OVERRIDES.get(config, ()),
    ]


def score_config(config: str, budget: float, threads: int, work: Path, quick: bool = False) -> dict[str, Any]:
    """Train one config for ``budget`` seconds, evaluate its last checkpoint, copy its grid."""
    run_root = work / config
    result: dict[str, Any] = {"config": config, "load_average_before": os.getloadavg()[0]}
    overrides = fit_overrides(config, budget, run_root)
    fit, run = fit_in_child(CONFIGS / f"{config}.yaml", overrides, run_root, threads, timeout=3 * budget + 600)
    result.update(fit=fit.record(), load_average=os.getloadavg()[0])
    clock = run / TrainingClock.FILE if run else None
    checkpoint = run / "checkpoints" / "last.ckpt" if run else None
    if fit.returncode != 0 or clock is None or not clock.is_file() or not checkpoint.is_file():
        result["error"] = fit.output()[-2000:]
        return result
    result.update(json.loads(clock.read_text()))
    result["checkpoint_iteration"] = load_checkpoint_file(checkpoint, map_location="cpu")["global_step"]
    evaluation, record = evaluate_in_child(checkpoint, threads, timeout=1800)
    result["evaluate"] = evaluation.record()
    if record is None:
        result["error"] = evaluation.output()[-2000:]
        return result
    result["metrics"] = {name: record["metrics"][name] for name in METRICS if name in record["metrics"]}
    result["protocol"] = {key: value for key, value in record.items() if key != "metrics"}
    grids = sorted(run.glob("samples/step_*.png"))
    if grids:
        result["grid"] = copy_grid(grids[-1], IMAGES / f"scoreboard_{config}{image_suffix(quick)}.png")
    return result


def copy_grid(source: Path, target: Path) -> str:
    """Copy a sample grid into the docs; grey RGB (every MNIST grid) is stored as one
    channel, a third of the bytes. Warns when the file is still over ``GRID_BYTES``."""
    from PIL import Image, ImageChops

    target.parent.mkdir(parents=True, exist_ok=True)
    image = Image.open(source)
    if image.mode == "RGB":
        red, green, blue = image.split()
        if not ImageChops.difference(red, green).getbbox() and not ImageChops.difference(red, blue).getbbox():
            image = red
    image.save(target, optimize=True)
    if target.stat().st_size > GRID_BYTES:
        print(f"warning: {target} is {target.stat().st_size // 1000} KB", file=sys.stderr)
    return str(target.relative_to(ROOT))


# ---------------------------------------------------------------- rendering


def _value(result: dict[str, Any], name: str) -> float | None:
    return result.get("metrics", {}).get(name, {}).get("value")


def ranked(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The configs by final FID, best first; failed runs last."""
    rows = list(results["configs"].values())
    return sorted(rows, key=lambda row: (_value(row, "fid") is None, _value(row, "fid") or 0.0))


def floors(results: dict[str, Any]) -> dict[str, float]:
    """Each metric's floor (training digits vs the held-out ones): the same for every row,
    which evaluates with the same data split and sample counts; taken from the first."""
    for row in ranked(results):
        if "metrics" in row:
            return {name: entry["floor"] for name, entry in row["metrics"].items() if entry.get("floor") is not None}
    return {}


def _cell(value: float | None, name: str) -> str:
    if value is None:
        return "—"
    if name == "modes_covered":
        return f"{value:.0f}"
    if name == "kid":
        return f"{value:.4f}"
    return f"{value:.3f}" if name in ("precision", "recall", "class_kl") else f"{value:.2f}"


def budget_label(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def report(results: dict[str, Any]) -> str:
    """The "Family scoreboard" section of BENCHMARKS.md: the table (best FID first, the
    floor row on top), the FID-against-training-time plot and every row's final samples."""
    budget = budget_label(results["budget_seconds"])
    quick = " (`--quick`)" if results.get("quick") else ""
    command = "python -m benchmarks.scoreboard" + (" --quick" if results.get("quick") else "")
    if not results.get("quick"):
        command += f" --budget {results['budget_seconds']:g}"
    lines = [
        "## Family scoreboard",
        "",
        f"Every noise→image MNIST-5k config trained for the same wall-clock budget, **{budget}**{quick}, one at a "
        f"time with {results['threads']} thread(s) (`{command}`, {results['date']}). Then `gan-lightning evaluate "
        "last.ckpt`: 2,000 EMA samples, the shipped MNIST classifier's features, reference = the 500 held-out "
        "digits, floor = 2,000 training digits against the same reference (docs/metrics.md). The budget is "
        'Lightning\'s `--trainer.max_time`, validation included; "train s" is the training loop without '
        "validation. Iterations = generator updates (the evaluated checkpoint's global step). Peak memory = the training process's maximum "
        "resident set; load = the 1-minute load average after training. The full-budget "
        "run: `python -m benchmarks.scoreboard --budget 300` (5 min per config, ≈ 65 min on an idle "
        "machine).",
        "",
        *load_warning(results),
        "| # | config | FID | KID | precision | recall | modes | class KL | iterations | train s | peak MB | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    floor = floors(results)
    lines.append("| | *floor (real vs real)* | " + " | ".join(_cell(floor.get(n), n) for n in METRICS) + " | | | | |")
    for rank, row in enumerate(ranked(results), 1):
        if "metrics" not in row:
            lines.append(f"| {rank} | `{row['config']}` | failed (see the JSON's `error`) | | | | | | | | | |")
            continue
        cells = " | ".join(_cell(_value(row, n), n) for n in METRICS)
        lines.append(
            f"| {rank} | `{row['config']}` | {cells} | {row.get('checkpoint_iteration', row['iterations'])} | {row['train_seconds']:.0f} | "
            f"{row['fit']['peak_memory_mb']:.0f} | {row['load_average']:.1f} |"
        )
    lines += [
        "",
        f"FID during training (every {budget_label(max(1, round(results['budget_seconds'] / VALIDATIONS_PER_BUDGET)))} of "
        "training; 1,000 EMA samples, so slightly above the table's 2,000-sample FIDs; dashed: that protocol's "
        "floor):",
        "",
        f"![FID against training time]({plot_path(bool(results.get('quick'))).relative_to(ROOT)})",
        "",
        "Final samples (the fixed latents, EMA generator):",
        "",
        *image_table(ranked(results)),
    ]
    return "\n".join(lines)


def load_warning(results: dict[str, Any]) -> list[str]:
    """A warning paragraph when the machine was busier than its cores: then every row ran
    fewer iterations than it would alone, and rows are compared under different loads."""
    cpus = results.get("machine", {}).get("cpus") or 0
    loads = [row["load_average"] for row in results["configs"].values() if "load_average" in row]
    if not cpus or not loads or max(loads) <= cpus:
        return []
    return [
        f"**Measured under load** (load average {min(loads):.1f}–{max(loads):.1f} on {cpus} cores, other jobs "
        f"running): a row whose load is above {cpus} shared its core part of the time and ran fewer iterations than "
        "it would alone, so the rows did not share the machine equally; the further above, the larger the handicap.",
        "",
    ]


def image_table(rows: list[dict[str, Any]], columns: int = 4) -> list[str]:
    """A Markdown table of the rows' sample grids, ``columns`` per line, names above."""
    rows = [row for row in rows if row.get("grid")]
    lines: list[str] = []
    for start in range(0, len(rows), columns):
        chunk = rows[start : start + columns]
        pad = [""] * (columns - len(chunk))
        lines.append(
            "| " + " | ".join([f"`{row['config']}` (FID {_value(row, 'fid'):.2f})" for row in chunk] + pad) + " |"
        )
        if start == 0:
            lines.append("|" + "---|" * columns)
        lines.append("| " + " | ".join([f"![{row['config']}]({row['grid']})" for row in chunk] + pad) + " |")
    return lines


def plot_fid_against_time(results: dict[str, Any], path: Path | None = None) -> None:
    """FID of every validation against training seconds, log FID axis, the floor dashed
    (written to :func:`plot_path` unless ``path`` is given)."""
    path = path or plot_path(bool(results.get("quick")))
    plt = pyplot()

    figure, axis = plt.subplots(figsize=(8, 4.5), dpi=100)
    colors = plt.get_cmap("tab20").colors
    floor_values = []
    for index, row in enumerate(ranked(results)):
        points = [(p["train_seconds"], p["val/fid"]) for p in row.get("history", []) if "val/fid" in p]
        floor_values += [p["val/fid_floor"] for p in row.get("history", []) if "val/fid_floor" in p]
        if points:
            color = colors[(2 * index) % 20 + (2 * index) // 20]  # the dark shades first, then the light ones
            axis.plot(*zip(*points, strict=True), marker="o", markersize=3, color=color, label=row["config"])
    if floor_values:
        floor = sum(floor_values) / len(floor_values)
        axis.axhline(floor, color="black", linestyle="--", linewidth=1, label=f"floor ({floor:.2f})")
    axis.set_yscale("log")
    axis.set_xlabel("training time without validation (s)")
    axis.set_ylabel("FID (MNIST features, 1,000 samples)")
    title = f"budget {budget_label(results['budget_seconds'])}, {results['threads']} thread(s)"
    axis.set_title(title + (" — quick" if results.get("quick") else ""))
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def replaced(part: str) -> bool:
    """Whether a ``; ``-separated part of a models.md cell is a missing or scoreboard FID
    (other FID notes, such as a pointer to a longer run, stay)."""
    return part.startswith("FID not measured") or (part.startswith("FID") and "(scoreboard" in part)


def fill_models_table(text: str, results: dict[str, Any]) -> str:
    """docs/models.md with each scored config's FID in the "on this machine" column: "FID
    not measured" (or an earlier scoreboard FID) is replaced, the rest of the cell kept."""
    label = budget_label(results["budget_seconds"])
    source = "scoreboard, quick" if results.get("quick") else "scoreboard"
    lines = text.splitlines(keepends=True)
    for number, line in enumerate(lines):
        match = re.search(r"\| `(\w+)\.yaml` \|", line)
        row = results["configs"].get(match.group(1)) if match else None
        if row is None or _value(row, "fid") is None:
            continue
        cells = line.rstrip("\n").split(" | ")
        parts = [part for part in cells[-1].rstrip(" |").split("; ") if not replaced(part)]
        floor = row["metrics"]["fid"]["floor"]
        parts.append(f"FID {_value(row, 'fid'):.2f} (floor {floor:.2f}) after {label} of training ({source})")
        cells[-1] = "; ".join(parts) + " |"
        lines[number] = " | ".join(cells) + "\n"
    return "".join(lines)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "scoreboard", f"a {QUICK_BUDGET:g} s budget")
    add_threads(command)
    command.add_argument("--configs", nargs="+", default=list(FAMILY), help="config names in configs/")
    command.add_argument("--budget", type=float, default=300.0, help="training seconds per config (wall clock)")
    command.add_argument("--keep-runs", type=Path, help="keep the run folders here (default: a deleted temp folder)")
    command.add_argument("--render", action="store_true", help="no training: plot and report the saved JSON")
    command.add_argument("--update-models-md", action="store_true", help="write the FIDs into docs/models.md")
    args = finish(command.parse_args(argv), "scoreboard", {"budget": QUICK_BUDGET})
    unknown = [name for name in args.configs if not (CONFIGS / f"{name}.yaml").is_file()]
    if unknown:
        command.error(f"no such config: {', '.join(unknown)} (names of files in configs/, without .yaml)")
    results = json.loads(args.out.read_text()) if args.render else train_all(args, args.out)
    plot_fid_against_time(results)
    print(report(results))
    if args.update_models_md:
        MODELS_MD.write_text(fill_models_table(MODELS_MD.read_text(), results))


def train_all(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    import torch
    from tqdm import tqdm

    budget = args.budget
    results: dict[str, Any] = {
        "budget_seconds": budget,
        "quick": args.quick,
        "threads": args.threads,
        "date": datetime.date.today().isoformat(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__},
        "validations_per_budget": VALIDATIONS_PER_BUDGET,
        "configs": {},
    }
    work = args.keep_runs or Path(tempfile.mkdtemp(prefix="scoreboard-"))
    progress = tqdm(args.configs, desc="scoreboard", unit="config")
    for config in progress:
        progress.set_postfix_str(config)
        results["configs"][config] = score_config(config, budget, args.threads, work, args.quick)
        write_results(out, results)  # after every config: a crash keeps the rest
    if args.keep_runs is None:
        shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    main()
