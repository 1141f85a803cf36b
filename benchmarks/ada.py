"""ADA on a small MNIST: does adaptive augmentation keep D from overfitting 500 digits?

The same model -- configs/r1.yaml's networks and objective (DCGAN, width 32, non-saturating
loss + R1 γ=10, Adam 2e-4, EMA 0.999) -- trains on ``--train-size`` digits of MNIST-5k
three ways: without augmentation, with DiffAugment (color, translation, cutout) and with
ADA (:class:`~gan_lightning.augment.AdaptiveAugment`, target 0.6). FID on the shipped MNIST
classifier's features (``--num-samples`` EMA samples vs the 500 held-out digits) is measured
every ``--eval-every`` iterations, beside its floor (the training digits in place of fakes).

r_t = E[sign(D(x_train))] is recorded for every variant: the runs without ADA carry a probe,
an ``AdaptiveAugment`` with p = 0 and a fixed p, whose output is its input bit for bit and
which only measures r_t. ADA's p is read from the module after every iteration.

    python -m benchmarks.ada                                   # the BENCHMARKS.md run
    python -m benchmarks.ada --quick     # 90 iterations, width 16, one seed: ~2 min -> ada_quick.json
"""

from __future__ import annotations

import argparse
import datetime
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
    quiet_lightning,
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
        discriminator=DCGANDiscriminator(image_size=28, channels=1, base_width=args.base_width, norm="none"),
        objective=NonSaturatingLoss(),
        regularizers=[R1Penalty(weight=10.0)],
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


def markdown(runs: list[dict[str, Any]], variants: list[str]) -> str:
    """The BENCHMARKS.md tables: final/best FID per variant, then FID, p and r_t over training."""
    lines = [
        "| augmentation | FID final | FID best (iteration) | floor | r_t final | p final |",
        "|---|---|---|---|---|---|",
    ]
    for variant in variants:
        group = [r for r in runs if r["variant"] == variant]
        if not group:
            continue
        best = ", ".join(f"{r['fid_best']:.2f} ({r['fid_best_iteration']})" for r in group)
        p_final = mean_se([r["p_final"] for r in group]) if variant == "ada" else "–"
        lines.append(
            f"| {NAMES[variant]} | {mean_se([r['fid_final'] for r in group])} | {best} | "
            f"{mean_se([r['fid_floor'] for r in group])} | {mean_se([r['rt_final'] for r in group])} | {p_final} |"
        )
    lines += ["", "FID over training (mean over seeds):", ""]
    iterations = [e["iteration"] for e in runs[0]["evaluations"]]
    names = [NAMES[variant] for variant in variants]
    lines.append(
        "| iteration | " + " | ".join(f"FID {name}" for name in names) + f" | ADA p | r_t {' / '.join(names)} |"
    )
    lines.append("|---" * (len(variants) + 3) + "|")
    for index, iteration in enumerate(iterations):
        cells = []
        for variant in variants:
            group = [r for r in runs if r["variant"] == variant]
            cells.append(f"{sum(r['evaluations'][index]['val/fid'] for r in group) / len(group):.2f}")
        rts, p_value = [], "–"
        for variant in variants:
            group = [r for r in runs if r["variant"] == variant]
            points = [[t for t in r["trace"] if t["iteration"] <= iteration][-1] for r in group]
            rts.append(f"{sum(t['ada_rt'] for t in points) / len(points):.2f}")
            if variant == "ada":
                p_value = f"{sum(t['ada_p'] for t in points) / len(points):.3f}"
        lines.append(f"| {iteration} | " + " | ".join(cells) + f" | {p_value} | {' / '.join(rts)} |")
    return "\n".join(lines)


#: What ADA applied before the geometric group existed: the policy of results files without one.
OLD_DEFAULT_POLICY = "xflip, rotate90, xint, brightness, contrast, saturation (the default before bgc)"


def report(results: dict[str, Any]) -> str:
    """The tables of BENCHMARKS.md from a results file, with the setting they were run with."""
    settings = results["settings"]
    seeds = ", ".join(str(seed) for seed in settings["seeds"])
    return (
        f"{settings['steps']:,} iterations on {settings['train_size']} digits, width {settings['base_width']}, "
        f"`speed_kimg` {settings['speed_kimg']:g}, ADA policy {settings.get('policy', OLD_DEFAULT_POLICY)}, FID of {settings['num_samples']} EMA samples every "
        f"{settings['eval_every']} iterations, seed(s) {seeds} (mean ± s.e. over seeds); "
        f"{results['total_seconds']:.0f} s in all "
        f"({settings['jobs']} run(s) side by side).\n\n" + markdown(results["runs"], settings["variants"])
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
    command.add_argument("--target", type=float, default=0.6, help="ADA's r_t target")
    command.add_argument(
        "--policy", default="digits", help="ADA's operations: a named policy (digits: bgc without flips/rotations)"
    )
    command.add_argument("--speed-kimg", type=float, default=100.0, help="ADA: kimg for p to go 0 -> 1")
    command.add_argument("--trace-every", type=int, default=10, help="iterations between p / r_t records")
    command.add_argument("--jobs", type=int, default=1, help="runs trained side by side (processes)")
    command.add_argument("--root", default="runs/benchmark_ada")
    quick = {"steps": 90, "seeds": [0], "eval_every": 30, "base_width": 16, "speed_kimg": 5.0, "num_samples": 250}
    return finish(command.parse_args(argv), "ada", quick)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    start = time.perf_counter()
    jobs = [(variant, seed, args) for seed in args.seeds for variant in args.variants]
    bar = {"desc": "ada runs", "total": len(jobs), "unit": "run", "dynamic_ncols": True}
    if args.jobs > 1:  # independent runs side by side, one thread each
        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(tqdm(pool.map(train_job, jobs), **bar))
    else:
        runs = [train_job(job) for job in tqdm(jobs, **bar)]
    table = markdown(runs, args.variants)
    print(table)
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": (
            f"{platform.machine()}, {args.jobs} run(s) side by side with {args.threads} thread(s) each, "
            "2 cores shared with other jobs (loaded)"
        ),
        "torch": torch.__version__,
        "quick": args.quick,
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "total_seconds": round(time.perf_counter() - start, 1),
        "table": table,
        "runs": runs,
    }
    write_results(args.out, results)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
