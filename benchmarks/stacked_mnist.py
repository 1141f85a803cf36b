"""Stacked MNIST mode collapse (Metz et al. 2017; PacGAN, Lin et al. 2018, Tables 2-3): train
each config for several seeds on the CPU, then count the modes (of 1,000) that 26,000 samples
of the EMA generator cover and KL(generated mode histogram ‖ uniform), as the papers do.

    python -m benchmarks.stacked_mnist                  # dcgan (2,000 it.) + wgan (20,000 it.), 3 seeds each
    python -m benchmarks.stacked_mnist --quick          # 1 seed, 100 it., 5,000 samples
    python -m benchmarks.stacked_mnist --configs pacgan2 --seeds 0 1 2 --steps 2000

Each run goes through the CLI (``configs/<file>.yaml --seed_everything=S``) with validation
off, so the cost is training only. Modes are read by the shipped MNIST classifier on each
channel (:mod:`gan_lightning.mnist.stacked`); the same count on 26,000 *real* images
is reported as the floor of the measurement, since the reader mislabels a few digits.
Writes benchmarks/results/stacked_mnist.json, a sample grid per config under docs/images/,
and prints :func:`report`, the Markdown section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from torchvision.utils import make_grid, save_image
from tqdm import tqdm

from benchmarks.harness import (
    IMAGES,
    ROOT,
    add_common_flags,
    add_seeds,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    format_mean_se,
    load_average,
    mean_and_stderr,
    parser,
    shown,
    write_results,
)
from gan_lightning.mnist import StackedMNISTDataModule, StackedMNISTFeatures, modes_and_kl, read_modes
from gan_lightning.mnist.stacked import stack_modes
from gan_lightning.tasks import GAN

CONFIGS = {
    "dcgan": "configs/stacked_mnist.yaml",
    "pacgan2": "configs/stacked_mnist_pacgan.yaml",
    "wgan": "configs/stacked_mnist_wgan.yaml",
}
#: Iterations per run when --steps is not given: what each config is measured at in BENCHMARKS.md.
STEPS = {"dcgan": 2000, "pacgan2": 4000, "wgan": 20000}  # wgan: the config's max_steps
NUM_SAMPLES = 26_000  # the papers' sample count
# PacGAN's own runs, VEEGAN setting (Table 2; ../shared/anchors.md): modes, KL, mean ± s.e.
PUBLISHED = {
    "dcgan": ("DCGAN (PacGAN Table 2)", "78.9 ± 6.46", "4.50 ± 0.127"),
    "pacgan2": ("PacDCGAN2 (PacGAN Table 2)", "1000.0 ± 0.00", "0.06 ± 0.003"),
}


class ModeCounts(Callback):
    """Counts modes and KL of the EMA generator at the given iterations during training (the
    trajectory of one run, so a longer run also tells how a shorter one would have ended —
    except that a decaying learning rate has not yet decayed there)."""

    def __init__(self, at: list[int], reader: StackedMNISTFeatures, num_samples: int, seed: int) -> None:
        self.at, self.reader, self.num_samples, self.seed = set(at), reader, num_samples, seed
        self.counts: dict[int, dict[str, float]] = {}
        self.seconds = 0.0  # spent counting, not training

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        step = trainer.global_step
        if step in self.at and step not in self.counts:
            start = time.perf_counter()
            modes, kl = count_modes(sample_images(pl_module, self.num_samples, self.seed), self.reader)
            self.counts[step] = {"modes": modes, "kl": round(kl, 4), "load_average": load_average()}
            self.seconds += time.perf_counter() - start


def train(config: str, seed: int, steps: int, folder: Path, counts: ModeCounts) -> tuple[GAN, int, float]:
    """One run of ``config`` through the CLI: (model, iterations, seconds of training and of
    the intermediate counts)."""
    start = time.perf_counter()
    cli = cli_in_process(
        ROOT / config,
        f"--seed_everything={seed}",
        f"--trainer.max_steps={steps}",
        "--trainer.limit_val_batches=0",
        "--trainer.enable_checkpointing=false",
        f"--samples.every_n_steps={steps}",
        root=folder,
        progress=False,
        run=False,
    )
    cli.trainer.callbacks.append(counts)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli.model.cpu().eval(), cli.trainer.global_step, time.perf_counter() - start - counts.seconds


def count_modes(images: torch.Tensor, reader: StackedMNISTFeatures) -> tuple[int, float]:
    return modes_and_kl(read_modes(images, reader))


def channel_digit_shares(modes: torch.Tensor) -> dict[str, list[float]]:
    """How often each digit is read in each channel: a skew here (every channel favouring a
    few digits) multiplies into the 1,000-mode KL even without collapse."""
    digits = {"red": modes // 100, "green": modes // 10 % 10, "blue": modes % 10}
    return {
        name: [round(share, 4) for share in (torch.bincount(d, minlength=10) / len(d)).tolist()]
        for name, d in digits.items()
    }


@torch.no_grad()
def sample_images(model: GAN, count: int, seed: int, batch_size: int = 500, use_ema: bool = True) -> torch.Tensor:
    """``count`` images of the EMA (or raw) generator from a seeded noise stream."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    batches = [
        model.sample(min(batch_size, count - start), generator=generator, use_ema=use_ema)
        for start in tqdm(range(0, count, batch_size), desc="sampling", leave=False)
    ]
    return torch.cat(batches).clamp(-1, 1)


def real_floor(reader: StackedMNISTFeatures, count: int) -> dict[str, Any]:
    """Modes and KL of ``count`` real images: what a perfect generator would score with this
    reader and sample count. Stacks of training digits (what the generator imitates) and of
    the held-out digits (read less accurately: closer to how the reader fares on new digits)."""
    data = StackedMNISTDataModule(num_images=count, num_val_images=count)
    data.setup()
    floors = {}
    for split, stacks in (("train", data.train_set), ("held_out", data.val_set)):
        images = torch.stack([stacks[i][0] for i in range(count)])
        read = read_modes(images, reader)
        modes, kl = modes_and_kl(read)
        accuracy = float((read == stack_modes(stacks.labels[stacks.triplets])).float().mean())
        floors[split] = {"modes": modes, "kl": round(kl, 4), "reader_accuracy": round(accuracy, 4)}
    return floors


def grid_path(name: str, quick: bool, out: Path) -> Path:
    """Protocol runs draw into docs/images/ (linked from BENCHMARKS.md); quick runs beside their JSON."""
    if quick:
        return out.parent / f"stacked_mnist_{name}_quick.png"
    return IMAGES / f"stacked_mnist_{name}.png"


def save_sample_grid(images: torch.Tensor, path: Path) -> None:
    """An 8 × 8 grid of the first samples, colours as generated (< 150 KB as PNG)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(make_grid(images[:64], nrow=8, normalize=True, value_range=(-1, 1), pad_value=1.0), path)


def one_run(name: str, seed: int, args: argparse.Namespace, reader: StackedMNISTFeatures, work: Path) -> dict:
    load_before = load_average()
    steps = args.steps or STEPS[name]
    counts = ModeCounts([step for step in args.count_at if step < steps], reader, args.num_samples, seed)
    model, iterations, seconds = train(CONFIGS[name], seed, steps, work / f"{name}_s{seed}", counts)
    start = time.perf_counter()
    images = sample_images(model, args.num_samples, seed)
    read = read_modes(images, reader)
    modes, kl = modes_and_kl(read)
    grid = grid_path(name, args.quick, args.out)
    if seed == args.seeds[0]:
        save_sample_grid(images, grid)
    raw = {}
    if args.also_raw:  # the raw generator too: whether the EMA (with copied batch-norm statistics) helps
        raw_modes, raw_kl = count_modes(sample_images(model, args.num_samples, seed, use_ema=False), reader)
        raw = {"raw_generator": {"modes": raw_modes, "kl": round(raw_kl, 4)}}
    return {
        "config": name,
        "seed": seed,
        "modes": modes,
        "kl": round(kl, 4),
        "iterations": iterations,
        "train_seconds": round(seconds, 1),
        "seconds_per_iteration": round(seconds / max(iterations, 1), 3),
        "eval_seconds": round(time.perf_counter() - start, 1),
        **raw,
        "digit_shares": channel_digit_shares(read),
        **({"sample_grid": shown(grid)} if seed == args.seeds[0] else {}),
        "during_training": {str(step): count for step, count in sorted(counts.counts.items())},
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }


def summarize(runs: list[dict]) -> dict[str, dict[str, Any]]:
    """Per config: mean ± s.e. over seeds of modes and KL, and the per-run cost."""
    summary = {}
    for name in dict.fromkeys(run["config"] for run in runs):
        group = [run for run in runs if run["config"] == name]
        summary[name] = {
            "modes": mean_and_stderr([run["modes"] for run in group]),
            "kl": mean_and_stderr([run["kl"] for run in group]),
            "train_seconds": mean_and_stderr([run["train_seconds"] for run in group]),
        }
    return summary


def report(results: dict) -> str:
    """The "Stacked MNIST" table of BENCHMARKS.md: ours (mean ± s.e. over seeds, per-seed
    values) beside PacGAN's published rows and the real-data floor of the reader."""
    summary, runs = results["summary"], results["runs"]
    quick = " (quick run: fewer iterations and samples — not the protocol)" if results.get("quick") else ""
    lines = [
        f"Modes covered (of 1,000) and KL(generated ‖ uniform) from {results['num_samples']:,} samples of the "
        f"EMA generator, mean ± s.e. over seeds{quick}.",
        "",
        "| config | modes | KL | per seed (modes / KL) | iterations | train time per run |",
        "|---|---|---|---|---|---|",
    ]
    for name, stats in summary.items():
        group = [run for run in runs if run["config"] == name]
        per_seed = ", ".join(f"s{run['seed']}: {run['modes']} / {run['kl']:.3f}" for run in group)
        lines.append(
            f"| ours: {name} (`{CONFIGS.get(name, name)}`) | {format_mean_se(stats['modes'])} "
            f"| {format_mean_se(stats['kl'], 3)} | {per_seed} | {group[0]['iterations']} "
            f"| {stats['train_seconds']['mean'] / 60:.1f} min |"
        )
    for name in summary:
        if name in PUBLISHED:
            label, modes, kl = PUBLISHED[name]
            lines.append(f"| published: {label} | {modes} | {kl} | — | — | — |")
    for split, floor in (results.get("real_floor") or {}).items():
        lines.append(
            f"| real data, {split.replace('_', '-')} digits (the reader's floor) | {floor['modes']} | "
            f"{floor['kl']:.3f} | reader names {100 * floor['reader_accuracy']:.1f} % of stacks right | — | — |"
        )
    lines.append("")
    for name in summary:
        drawn = [run for run in runs if run["config"] == name and "sample_grid" in run]
        if drawn:
            lines.append(
                f"![{name}: 64 samples of the EMA generator, seed {drawn[-1]['seed']}]({drawn[-1]['sample_grid']})"
            )
    return "\n".join(lines)


def report_raw_generator(results: dict) -> str:
    """The EMA generator beside the raw one, from the same runs (``--also-raw``)."""
    lines = [
        "| run | EMA generator: modes / KL | raw generator: modes / KL |",
        "|---|---|---|",
    ]
    for run in results["runs"]:
        raw = run["raw_generator"]
        lines.append(
            f"| {run['config']} seed {run['seed']}, {run['iterations']:,} it. ({run['train_seconds']:.0f} s) "
            f"| {run['modes']} / {run['kl']:.3f} | {raw['modes']} / {raw['kl']:.3f} |"
        )
    return "\n".join(lines) + f"\n\n{results['num_samples']:,} samples each."


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    command = parser(__doc__)
    add_common_flags(command, "stacked_mnist", "1 seed, 100 iterations, 5,000 samples")
    add_threads(command)
    add_seeds(command, [0, 1, 2])
    add_steps(command, None, f" (default per config: {STEPS})")
    command.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=["dcgan", "wgan"])
    command.add_argument("--num-samples", type=int, default=NUM_SAMPLES, help="samples counted per run")
    command.add_argument(
        "--count-at", type=int, nargs="*", default=[], help="also count modes at these iterations (in train time)"
    )
    command.add_argument("--also-raw", action="store_true", help="also count modes of the raw (non-EMA) generator")
    command.add_argument("--append", action="store_true", help="keep the runs of other configs/seeds in --out")
    args = command.parse_args(argv)
    return finish(args, "stacked_mnist", {"seeds": args.seeds[:1], "steps": 100, "num_samples": 5000})


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    reader = StackedMNISTFeatures()
    start = time.perf_counter()
    results: dict[str, Any] = {
        "command": "python -m benchmarks.stacked_mnist "
        + ("--quick " if args.quick else "")
        + f"--configs {' '.join(args.configs)} --seeds {' '.join(map(str, args.seeds))}"
        + (f" --steps {args.steps}" if args.steps else "")
        + (f" --count-at {' '.join(map(str, args.count_at))}" if args.count_at else "")
        + (" --also-raw" if args.also_raw else ""),
        "quick": args.quick,
        "output": shown(args.out),
        "num_samples": args.num_samples,
        "real_floor": None,
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
        "runs": [],
    }
    if args.append and args.out.is_file():
        done = {(name, seed) for name in args.configs for seed in args.seeds}
        previous = json.loads(args.out.read_text())
        results["runs"] = [run for run in previous["runs"] if (run["config"], run["seed"]) not in done]
        results["command"] = "; ".join(dict.fromkeys([previous["command"], results["command"]]))
        if previous["num_samples"] == args.num_samples and "held_out" in (previous["real_floor"] or {}):
            results["real_floor"] = previous["real_floor"]
    results["real_floor"] = results["real_floor"] or real_floor(reader, args.num_samples)
    with tempfile.TemporaryDirectory() as folder:
        for name, seed in tqdm([(n, s) for n in args.configs for s in args.seeds], desc="runs"):
            results["runs"].append(one_run(name, seed, args, reader, Path(folder)))
            tqdm.write(json.dumps(results["runs"][-1]))
            results["summary"] = summarize(results["runs"])
            results["total_seconds"] = round(time.perf_counter() - start, 1)
            write_results(args.out, results)  # after every run: partial results survive
    print(report(results))


if __name__ == "__main__":
    main()
