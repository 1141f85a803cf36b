"""ADA on a small MNIST: does adaptive augmentation keep D from overfitting a few hundred digits?

The same model -- configs/r1.yaml's networks and objective (DCGAN, width 32, non-saturating
loss + R1 γ=10, Adam 2e-4, EMA 0.999; ``--base-width``, ``--d-width`` and ``--r1-weight``
change what they name) -- trains on ``--train-size`` digits of MNIST-5k three ways: without
augmentation, with DiffAugment (color, translation, cutout) and with ADA
(:class:`~gan_lightning.augment.AdaptiveAugment`, ``--policy`` digits, target 0.6). FID on the
shipped MNIST classifier's features (``--num-samples`` EMA samples vs the 500 held-out digits) is
measured every ``--eval-every`` iterations, beside its floor (the training digits in place of
fakes). The tables judge each seed: is ADA's best FID below the un-augmented best?

r_t = E[sign(D(x_train))] is recorded for every variant: the runs without ADA carry a probe,
an ``AdaptiveAugment`` with p = 0 and a fixed p, whose output is its input bit for bit and
which only measures r_t. ADA's p is read from the module after every iteration. The figure
beside the results file (same name, .png) draws FID, r_t and p over training.

    python -m benchmarks.ada --train-size 200 --r1-weight 0.1 --d-width 32 --steps 5000 --seeds 0 1 2 \\
        --eval-every 500 --base-width 16 --jobs 2 --out benchmarks/results/ada_long.json   # BENCHMARKS.md
    python -m benchmarks.ada --variants none --seeds 1 --out b.json    # one part of a study; then
    python -m benchmarks.ada --merge a.json b.json --out all.json       # pool the parts
    python -m benchmarks.ada --quick     # 90 iterations, width 16, one seed: ~2 min -> ada_long_quick.json
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import multiprocessing
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn
from tqdm import tqdm

from benchmarks.harness import (
    add_common_flags,
    add_seeds,
    add_steps,
    add_threads,
    bare_trainer,
    finish,
    format_mean_se,
    mean_and_stderr,
    parser,
    pyplot,
    quiet_lightning,
    save_figure,
    write_results,
)
from gan_lightning.augment import AdaptiveAugment, DiffAugment
from gan_lightning.callbacks import IterationProgressBar
from gan_lightning.metrics import GenerativeMetrics
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import NonSaturatingLoss
from gan_lightning.regularizers import R1Penalty
from gan_lightning.tasks import GAN

VARIANTS = ("none", "diffaugment", "ada")


def r_t_probe() -> AdaptiveAugment:
    """Measures r_t without augmenting: p = 0 and held there."""
    return AdaptiveAugment([], p=0.0, target=None)


def make_augment(variant: str, args: argparse.Namespace) -> nn.Module:
    if variant == "none":
        return r_t_probe()
    if variant == "diffaugment":
        return nn.Sequential(DiffAugment(), r_t_probe())
    if variant == "ada":
        return AdaptiveAugment(args.policy, target=args.target, speed_kimg=args.speed_kimg)
    raise ValueError(f"Unknown variant {variant!r}: choose from {VARIANTS}.")


def make_model(variant: str, args: argparse.Namespace) -> GAN:
    """configs/r1.yaml's model, built in Python (``--base-width 16`` quarters its cost)."""
    return GAN(
        generator=DCGANGenerator(latent_dim=64, image_size=28, channels=1, base_width=args.base_width, norm="batch"),
        discriminator=DCGANDiscriminator(
            image_size=28, channels=1, base_width=args.d_width or args.base_width, norm="none"
        ),
        objective=NonSaturatingLoss(),
        regularizers=[R1Penalty(weight=args.r1_weight)],
        augment=make_augment(variant, args),
        metrics=GenerativeMetrics(features="mnist", num_samples=args.num_samples, mode_coverage=True),
    )


def probe_of(model: GAN) -> AdaptiveAugment:
    return next(module for module in model.augment.modules() if isinstance(module, AdaptiveAugment))


class Record(pl.Callback):
    """p and r_t after every iteration (read from the module), and the validation metrics."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.trace: list[dict[str, float]] = []
        self.evaluations: list[dict[str, float]] = []

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: Any, outputs: Any, batch: Any, idx: int) -> None:
        if trainer.global_step % self.every == 0:
            stats = probe_of(pl_module).stats()
            self.trace.append({"iteration": trainer.global_step, **{k: float(v) for k, v in stats.items()}})

    def on_validation_end(self, trainer: pl.Trainer, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        self.evaluations.append({"iteration": trainer.global_step, **metrics})


def train(variant: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    pl.seed_everything(seed, verbose=False)
    model = make_model(variant, args)
    data = MNIST5kDataModule(batch_size=64, val_size=500, train_size=args.train_size, seed=0)
    record = Record(every=args.trace_every)
    trainer = bare_trainer(
        args.steps,
        [record, IterationProgressBar(f"{variant} seed {seed}")] if args.jobs == 1 else [record],
        limit_val_batches=None,  # Lightning's default: every held-out batch
        max_epochs=-1,
        check_val_every_n_epoch=None,
        val_check_interval=args.eval_every,
        default_root_dir=args.root,
    )
    start = time.perf_counter()
    trainer.fit(model, datamodule=data)
    seconds = time.perf_counter() - start
    fids = [e["val/fid"] for e in record.evaluations]
    best = min(range(len(fids)), key=fids.__getitem__)
    result = {
        "variant": variant,
        "seed": seed,
        "seconds": round(seconds, 1),
        "fid_final": fids[-1],
        "fid_best": fids[best],
        "fid_best_iteration": record.evaluations[best]["iteration"],
        "fid_floor": record.evaluations[0].get("val/fid_floor", math.nan),
        "modes_final": record.evaluations[-1].get("val/modes_covered", math.nan),
        "rt_final": record.trace[-1]["ada_rt"],
        "p_final": float(model.augment.p) if variant == "ada" else None,
        "evaluations": record.evaluations,
        "trace": record.trace,
    }
    print(
        f"{variant:12s} seed {seed}: FID final {result['fid_final']:.2f}, best {result['fid_best']:.2f} "
        f"@ {result['fid_best_iteration']}, floor {result['fid_floor']:.2f}, r_t {result['rt_final']:.2f}, "
        f"p {result['p_final']}, {seconds:.0f} s",
        flush=True,
    )
    return result


def train_job(job: tuple[str, int, argparse.Namespace]) -> dict[str, Any]:
    variant, seed, args = job
    torch.set_num_threads(args.threads)
    quiet_lightning()
    return train(variant, seed, args)


def mean_se(values: list[float]) -> str:
    """Mean ± standard error over seeds, two decimals (the mean alone for one seed)."""
    return format_mean_se(mean_and_stderr(values), 2)


NAMES = {"none": "none", "diffaugment": "DiffAugment", "ada": "ADA"}


def runs_of(runs: list[dict[str, Any]], variant: str) -> list[dict[str, Any]]:
    return sorted((r for r in runs if r["variant"] == variant), key=lambda r: r["seed"])


def trace_at(run: dict[str, Any], iteration: int) -> dict[str, float]:
    """The last p / r_t record at or before ``iteration``."""
    return [t for t in run["trace"] if t["iteration"] <= iteration][-1]


def per_seed(runs: list[dict[str, Any]], variants: list[str]) -> list[str]:
    """Each seed's best FID per variant, and whether ADA's best is below the un-augmented
    best on that seed: the claim Karras et al. 2020 make, checked seed by seed."""
    seeds = sorted({r["seed"] for r in runs})
    header = "| seed | " + " | ".join(f"best FID {NAMES[v]} (iteration)" for v in variants)
    compare = "ada" in variants and "none" in variants
    lines = [header + (" | ADA best < none best |" if compare else " |")]
    lines.append("|---" * (len(variants) + 1 + compare) + "|")
    for seed in seeds:
        best = {r["variant"]: r for r in runs if r["seed"] == seed}
        cells = [
            f"{best[v]['fid_best']:.2f} ({best[v]['fid_best_iteration']:,})" if v in best else "–" for v in variants
        ]
        verdict = ""
        if compare:
            verdict = (
                " | " + ("yes" if best["ada"]["fid_best"] < best["none"]["fid_best"] else "**no**")
                if "ada" in best and "none" in best
                else " | –"
            )
        lines.append(f"| {seed} | " + " | ".join(cells) + verdict + " |")
    return lines


def markdown(runs: list[dict[str, Any]], variants: list[str]) -> str:
    """The BENCHMARKS.md tables: final/best FID per variant, each seed's best, then FID, p and
    r_t over training (mean ± s.e. over seeds)."""
    lines = [
        "| augmentation | seeds | FID final | FID best | FID best (iteration), per seed | floor | r_t final | p final |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for variant in variants:
        group = runs_of(runs, variant)
        if not group:
            continue
        best = ", ".join(f"{r['fid_best']:.2f} ({r['fid_best_iteration']:,})" for r in group)
        p_final = mean_se([r["p_final"] for r in group]) if variant == "ada" else "–"
        lines.append(
            f"| {NAMES[variant]} | {len(group)} | {mean_se([r['fid_final'] for r in group])} | "
            f"{mean_se([r['fid_best'] for r in group])} | {best} | "
            f"{mean_se([r['fid_floor'] for r in group])} | {mean_se([r['rt_final'] for r in group])} | {p_final} |"
        )
    if len({r["seed"] for r in runs}) > 1:
        lines += ["", "Each seed's best:", "", *per_seed(runs, variants)]
    lines += ["", "FID over training (mean ± s.e. over seeds):", ""]
    iterations = [e["iteration"] for e in runs[0]["evaluations"]]
    names = [NAMES[variant] for variant in variants]
    lines.append(
        "| iteration | " + " | ".join(f"FID {name}" for name in names) + f" | ADA p | r_t {' / '.join(names)} |"
    )
    lines.append("|---" * (len(variants) + 3) + "|")
    for index, iteration in enumerate(iterations):
        cells, rts, p_value = [], [], "–"
        for variant in variants:
            group = runs_of(runs, variant)
            cells.append(mean_se([r["evaluations"][index]["val/fid"] for r in group]))
            points = [trace_at(r, iteration) for r in group]
            rts.append(f"{sum(t['ada_rt'] for t in points) / len(points):.2f}")
            if variant == "ada":
                p_value = f"{sum(t['ada_p'] for t in points) / len(points):.3f}"
        lines.append(f"| {iteration:,} | " + " | ".join(cells) + f" | {p_value} | {' / '.join(rts)} |")
    return "\n".join(lines)


COLOURS = {"none": "tab:grey", "diffaugment": "tab:blue", "ada": "tab:red"}


def plot(results: dict[str, Any], path: Path) -> None:
    """FID, r_t and ADA's p over training: one thin line per seed, the seeds' mean bold."""
    runs, variants = results["runs"], results["settings"]["variants"]
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter

    with_ada = "ada" in variants
    figure, panels = plt.subplots(1, 2 + with_ada, figsize=(14 if with_ada else 10, 4))
    fid_axes, rt_axes, p_axes = (*panels, None) if not with_ada else panels
    for variant in variants:
        group, colour = runs_of(runs, variant), COLOURS[variant]
        iterations = [e["iteration"] for e in group[0]["evaluations"]]
        curves = [[e["val/fid"] for e in r["evaluations"]] for r in group]
        for curve in curves:
            fid_axes.plot(iterations, curve, color=colour, alpha=0.3, linewidth=0.8)
        mean = [sum(values) / len(values) for values in zip(*curves, strict=True)]
        fid_axes.plot(iterations, mean, color=colour, linewidth=2, marker=".", label=NAMES[variant])
        for axes, key in ((rt_axes, "ada_rt"), (p_axes, "ada_p")):
            if axes is None or (key == "ada_p" and variant != "ada"):
                continue
            for r in group:
                steps = [t["iteration"] for t in r["trace"]]
                axes.plot(steps, [t[key] for t in r["trace"]], color=colour, alpha=0.5, linewidth=0.7)
            axes.plot([], [], color=colour, label=NAMES[variant])
    floor = sum(r["fid_floor"] for r in runs) / len(runs)
    fid_axes.axhline(floor, color="black", linestyle=":", linewidth=1, label=f"floor {floor:.2f}")
    fid_axes.set(xlabel="iteration", ylabel="FID (MNIST features)", yscale="log", title="FID over training")
    for axis in (fid_axes.yaxis,):
        axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "235" else ""))
    rt_axes.axhline(results["settings"]["target"], color="tab:red", linestyle=":", linewidth=1, label="ADA target")
    rt_axes.set(xlabel="iteration", ylabel="r_t = E[sign D(x_train)]", title="overfitting heuristic r_t")
    if p_axes is not None:
        p_axes.set(xlabel="iteration", ylabel="p", title="ADA augmentation probability p", ylim=(0, 1))
    for axes in panels:
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)


#: What ADA applied before the geometric group existed: the policy of results files without one.
OLD_DEFAULT_POLICY = "xflip, rotate90, xint, brightness, contrast, saturation (the default before bgc)"


def report(results: dict[str, Any]) -> str:
    """The tables of BENCHMARKS.md from a results file, with the setting they were run with."""
    settings = results["settings"]
    seeds = ", ".join(str(seed) for seed in settings["seeds"])
    return (
        f"{settings['steps']:,} iterations on {settings['train_size']} digits, width {settings['base_width']}"
        f"{' (D ' + str(settings['d_width']) + ')' if settings.get('d_width') else ''}, "
        f"R1 γ {settings.get('r1_weight', 10.0):g}, "
        f"`speed_kimg` {settings['speed_kimg']:g}, ADA policy {settings.get('policy', OLD_DEFAULT_POLICY)}, FID of {settings['num_samples']} EMA samples every "
        f"{settings['eval_every']} iterations, seed(s) {seeds} (mean ± s.e. over seeds); "
        f"{results['total_seconds']:.0f} s in all "
        f"({settings['jobs']} run(s) side by side).\n\n" + markdown(results["runs"], settings["variants"])
    )


def late_rt(run: dict[str, Any], span: int = 1000) -> float:
    """Mean r_t over the last ``span`` iterations: where D stands at the end, not one noisy reading."""
    end = run["evaluations"][-1]["iteration"]
    values = [t["ada_rt"] for t in run["trace"] if t["iteration"] > end - span]
    return sum(values) / len(values)


def report_probes(results: dict[str, Any]) -> str:
    """The one-seed probes for a setting where D overfits: per run, its best FID, whether the FID
    ever rose between two evaluations, and D's late r_t."""
    lines = [
        "| digits | R1 γ | width G / D | iterations | variant | best FID (iteration) | floor "
        "| FID rose between evaluations | r_t, last 1,000 it. | seconds |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for probe in results["probes"]:
        settings = probe["settings"]
        widths = f"{settings['base_width']} / {settings.get('d_width') or settings['base_width']}"
        for run in probe["runs"]:
            fids = [(e["iteration"], e["val/fid"]) for e in run["evaluations"]]
            rises = [f"{b:.2f} at {i:,} (from {a:.2f})" for (_, a), (i, b) in itertools.pairwise(fids) if b > a]
            lines.append(
                f"| {settings['train_size']} | {settings['r1_weight']:g} | {widths} | {settings['steps']:,} | "
                f"{NAMES[run['variant']]} | {run['fid_best']:.2f} ({run['fid_best_iteration']:,}) | "
                f"{run['fid_floor']:.2f} | {'; '.join(rises) or 'never'} | {late_rt(run):.2f} | {run['seconds']:.0f} |"
            )
    return (
        f"One seed (0) each, {results['machine']}; FID of 500 EMA samples every 500 iterations. "
        "Commands in `benchmarks/results/ada_probes.json`.\n\n" + "\n".join(lines)
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    command = parser(__doc__)
    add_common_flags(command, "ada", "90 iterations, width 16, one seed, FID every 30")
    add_threads(command)
    add_seeds(command, [0, 1])
    add_steps(command, 3000)
    command.add_argument("--train-size", type=int, default=500, help="training digits (of MNIST-5k's 4,500)")
    command.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    command.add_argument("--eval-every", type=int, default=500, help="iterations between FID evaluations")
    command.add_argument("--num-samples", type=int, default=500, help="EMA samples per FID (and floor images)")
    command.add_argument("--base-width", type=int, default=32, help="DCGAN width (configs/r1.yaml: 32)")
    command.add_argument("--d-width", type=int, default=None, help="D's width, if not --base-width")
    command.add_argument("--r1-weight", type=float, default=10.0, help="R1's γ (configs/r1.yaml: 10)")
    command.add_argument("--target", type=float, default=0.6, help="ADA's r_t target")
    command.add_argument(
        "--policy", default="digits", help="ADA's operations: a named policy (digits: bgc without flips/rotations)"
    )
    command.add_argument("--speed-kimg", type=float, default=100.0, help="ADA: kimg for p to go 0 -> 1")
    command.add_argument("--trace-every", type=int, default=10, help="iterations between p / r_t records")
    command.add_argument("--jobs", type=int, default=1, help="runs trained side by side (processes)")
    command.add_argument("--root", default="runs/benchmark_ada")
    command.add_argument(
        "--merge", type=Path, nargs="+", help="pool these results files (e.g. one seed or variant each) into --out"
    )
    quick = {"steps": 90, "seeds": [0], "eval_every": 30, "base_width": 16, "speed_kimg": 5.0, "num_samples": 250}
    return finish(command.parse_args(argv), "ada", quick)


#: Settings that must agree between results files pooled by ``--merge``.
SHARED_SETTINGS = (
    "quick",
    "steps",
    "train_size",
    "eval_every",
    "num_samples",
    "base_width",
    "target",
    "policy",
    "speed_kimg",
)


def merge(files: list[Path]) -> dict[str, Any]:
    """One results record from several written with the same settings (e.g. one seed per
    process, run side by side): runs pooled and ordered, variants and seeds united, table redone."""
    parts = [json.loads(path.read_text()) for path in files]
    for name in SHARED_SETTINGS:
        values = {json.dumps(part["settings"].get(name)) for part in parts}
        if len(values) > 1:
            raise SystemExit(f"--merge: the files disagree on {name} ({', '.join(sorted(values))}): rerun them alike.")
    runs = sorted(
        (run for part in parts for run in part["runs"]), key=lambda r: (r["seed"], VARIANTS.index(r["variant"]))
    )
    if len({(r["variant"], r["seed"]) for r in runs}) < len(runs):
        raise SystemExit("--merge: two files hold the same variant and seed: pool each run once.")
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in runs)]
    seeds = sorted({r["seed"] for r in runs})
    settings = {**parts[0]["settings"], "variants": variants, "seeds": seeds}
    settings["jobs"] = sum(part["settings"]["jobs"] for part in parts)
    return {
        **parts[0],
        "settings": settings,
        "merged_from": [path.name for path in files],
        "total_seconds": max(part["total_seconds"] for part in parts),
        "table": markdown(runs, variants),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = merge(args.merge) if args.merge else train_all(args)
    write_results(args.out, results)
    plot(results, args.out.with_suffix(".png"))
    print(results["table"])
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def train_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every (seed, variant) run, side by side in ``--jobs`` processes, as a results record."""
    start = time.perf_counter()
    jobs = [(variant, seed, args) for seed in args.seeds for variant in args.variants]
    bar = {"desc": "ada runs", "total": len(jobs), "unit": "run", "dynamic_ncols": True}
    if args.jobs > 1:  # independent runs side by side, one thread each
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(tqdm(pool.map(train_job, jobs), **bar))
    else:
        runs = [train_job(job) for job in tqdm(jobs, **bar)]
    return {
        "date": datetime.date.today().isoformat(),
        "machine": (
            f"{platform.machine()}, {args.jobs} run(s) side by side with {args.threads} thread(s) each, "
            "2 cores shared with other jobs"
        ),
        "torch": torch.__version__,
        "quick": args.quick,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "merge"},
        "total_seconds": round(time.perf_counter() - start, 1),
        "table": markdown(runs, args.variants),
        "runs": runs,
    }


if __name__ == "__main__":
    main()
