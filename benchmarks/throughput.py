"""Training throughput on one GPU: images per second and seconds per kimg (thousand real
images shown to the discriminator, stylegan2-ada's ``sec/kimg``) of the CIFAR-10 recipes'
networks (configs/cifar10/: wgan_gp, sngan, stylegan2_diffaugment) on CIFAR-10-sized data
(32×32×3, random, in memory: no download), eager, compiled (``--model.init_args.compile=true``),
bf16 autocast, and both.

    python -m benchmarks.throughput --device cuda            # the GPU table (meant to take < 10 min)
    python -m benchmarks.throughput --device cpu --quick     # smoke run: networks 16 wide, 2 iterations, batch 8

Each run: the recipe's model and batch size (64), validation, grids, metrics and logger off;
``--warmup`` iterations (they hold the compilation) before ``--steps`` timed ones, the GPU
synchronised at both ends. An iteration of a recipe with ``n_critic`` fresh real batches shows
D ``n_critic × batch`` images: images/s counts those. ``--quick`` shrinks the networks to 16
channels (as tests/test_cifar10_configs.py does) and compiles with ``aot_eager``.
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import Any

import lightning.pytorch as pl
import torch
from torch import Tensor

from benchmarks.harness import (
    CONFIGS,
    TrainingClock,
    add_common_flags,
    add_steps,
    bare_trainer,
    cli_in_process,
    finish,
    load_average,
    parser,
    quiet_lightning,
    write_results,
)
from gan_lightning.data.base import InMemoryDataModule

#: name -> the recipe in configs/cifar10/
RECIPES = {"wgan": "wgan_gp", "sngan": "sngan", "stylegan2": "stylegan2_diffaugment"}
#: --quick: the recipes' networks 16 channels wide, so a CPU runs them in seconds
SHRUNK = {
    "wgan": ["--model.init_args.generator.init_args.width=16", "--model.init_args.discriminator.init_args.width=16"],
    "sngan": ["--model.init_args.generator.init_args.width=16", "--model.init_args.discriminator.init_args.width=16"],
    "stylegan2": [
        "--model.init_args.generator.init_args.latent_dim=16",
        "--model.init_args.generator.init_args.width=16",
        "--model.init_args.generator.init_args.w_dim=16",
        "--model.init_args.discriminator.init_args.width=16",
        "--model.init_args.discriminator.init_args.minibatch_std_group=4",
    ],
}
#: variant -> (compile, Lightning precision)
VARIANTS: dict[str, tuple[bool, str]] = {
    "eager": (False, "32-true"),
    "compiled": (True, "32-true"),
    "bf16": (False, "bf16-mixed"),
    "compiled + bf16": (True, "bf16-mixed"),
}


class FakeCIFAR10(InMemoryDataModule):
    """Random images of CIFAR-10's size (3×32×32 in [-1, 1]) and ten labels: the GPU's work
    without a download. ``image_size`` and ``channels`` are what the configs' networks read."""

    num_classes = 10

    def __init__(self, batch_size: int = 64, size: int = 4096, image_size: int = 32, channels: int = 3) -> None:
        super().__init__(batch_size=batch_size, val_size=batch_size)
        self.size, self.image_size, self.channels = size, image_size, channels

    def load(self) -> tuple[Tensor, Tensor]:
        generator = torch.Generator().manual_seed(0)
        images = torch.rand(self.size, self.channels, self.image_size, self.image_size, generator=generator) * 2 - 1
        return images, torch.randint(self.num_classes, (self.size,), generator=generator)


class Synchronize(pl.Callback):
    """Waits for the GPU when the clock starts (iteration ``warmup``) and when training ends,
    so the timed span holds exactly the timed iterations' kernels."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if trainer.global_step == self.warmup and torch.cuda.is_available():
            torch.cuda.synchronize()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()


def run(config: str, variant: str, args: Any) -> dict[str, float]:
    """One config and variant: images/s, s/kimg, iterations/s and the warm-up's wall seconds."""
    compile, precision = VARIANTS[variant]
    cli = cli_in_process(
        CONFIGS / "cifar10" / f"{RECIPES[config]}.yaml",
        "--data=benchmarks.throughput.FakeCIFAR10",
        f"--data.init_args.batch_size={args.batch_size}",
        "--model.init_args.metrics=null",
        *(SHRUNK[config] if args.quick else []),
        f"--trainer.max_steps={args.steps + args.warmup}",
        "--trainer.limit_val_batches=0",
        "--samples.every_n_epochs=100000",
        f"--model.init_args.compile={args.backend if compile else 'false'}",
        progress=False,
        run=False,
    )
    clock = TrainingClock(args.warmup)
    accelerator = "gpu" if args.device == "cuda" else "cpu"
    trainer = bare_trainer(
        args.steps + args.warmup, [Synchronize(args.warmup), clock], accelerator=accelerator, precision=precision
    )
    start = time.perf_counter()
    trainer.fit(cli.model, cli.datamodule)
    images_per_iteration = cli.datamodule.batch_size * cli.datamodule.batches_per_step
    images_per_second = clock.rate * images_per_iteration
    return {
        "iterations_per_second": clock.rate,
        "images_per_iteration": images_per_iteration,
        "images_per_second": images_per_second,
        "seconds_per_kimg": 1000.0 / images_per_second,
        "warmup_seconds": time.perf_counter() - start - clock.seconds,
    }


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: one row per config and variant."""
    lines = [
        f"{results['device_name']}, torch {results['torch']}, batch {results['batch_size']}, 32×32×3 random images, "
        f"{results['steps']} timed iterations after {results['warmup']} (which hold the compilation), "
        f"compile backend `{results['backend']}`, {results['date']}, load average {results['load_before'][0]} before:",
        "",
        "| config | variant | images/s | s/kimg | iterations/s | × eager | warm-up s |",
        "|---|---|---|---|---|---|---|",
    ]
    for config, runs in results["rows"].items():
        eager = runs.get("eager")
        for variant, measured in runs.items():
            speedup = f"{measured['images_per_second'] / eager['images_per_second']:.2f}" if eager else "–"
            lines.append(
                f"| `{config}` | {variant} | {measured['images_per_second']:,.0f} | {measured['seconds_per_kimg']:.3f} "
                f"| {measured['iterations_per_second']:.1f} | {speedup} | {measured['warmup_seconds']:.0f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    command = parser(__doc__)
    add_common_flags(command, "throughput", "networks 16 wide, 2 iterations after 1, batch 8, backend aot_eager")
    command.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    add_steps(command, 50, " (timed)")
    command.add_argument("--warmup", type=int, default=5, help="iterations before the timing starts")
    command.add_argument("--batch-size", type=int, default=64)
    command.add_argument("--configs", nargs="+", default=list(RECIPES), choices=list(RECIPES), metavar="RECIPE")
    command.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="VARIANT")
    command.add_argument("--backend", default="inductor", help="torch.compile backend of the compiled variants")
    quick = {"steps": 2, "warmup": 1, "batch_size": 8, "backend": "aot_eager"}
    args = finish(command.parse_args(argv), "throughput", quick)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda, but torch sees no GPU here; run it on a GPU machine (or --device cpu --quick).")
        return 2
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest convolutions
    quiet_lightning()
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "device": args.device,
        "device_name": torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU",
        "torch": torch.__version__,
        "steps": args.steps,
        "warmup": args.warmup,
        "batch_size": args.batch_size,
        "backend": args.backend,
        "load_before": load_average(),
        "rows": {},
    }
    for config in args.configs:
        results["rows"][config] = {}
        for variant in args.variants:
            measured = run(config, variant, args)
            results["rows"][config][variant] = measured
            write_results(args.out, results)
            print(
                f"{config:9s} {variant:16s} {measured['images_per_second']:10,.0f} images/s "
                f"{measured['seconds_per_kimg']:.3f} s/kimg (warm-up {measured['warmup_seconds']:.0f} s)",
                flush=True,
            )
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
