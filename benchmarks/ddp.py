"""GANDDPStrategy vs Lightning's DDPStrategy(find_unused_parameters=True) on 2 processes.

Both train the same GAN (DCGAN nets at 28×28, base_width 16, non-saturating loss,
n_critic 1, batch 32 per rank, Adam) on embedded MNIST-5k, with the gloo backend on CPU.
Each strategy runs in its own child process, alternating, ``--repeats`` times; the time is
measured on rank 0 from iteration ``--warmup`` to the end, so start-up is excluded.

    python -m benchmarks.ddp --steps 30 --warmup 5 --repeats 3
    python -m benchmarks.ddp --accelerator gpu        # on a machine with 2+ GPUs (nccl)
    python -m benchmarks.ddp --quick                  # 5 iterations after 2, one repeat

Writes the rates of every run and renders the table of BENCHMARKS.md (medians over repeats).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    add_common_flags,
    add_steps,
    finish,
    load_average,
    parser,
    run_child,
    write_results,
)

STRATEGIES = ("gan_ddp", "ddp_find_unused", "single_process")
LABELS = {
    "gan_ddp": "`ddp` (→ GANDDPStrategy)",
    "ddp_find_unused": "`DDPStrategy(find_unused_parameters=True)`",
    "single_process": "one process (reference, half the samples per iteration)",
}


def worker(strategy_name: str, steps: int, warmup: int, out: Path, accelerator: str) -> None:
    """One training run under ``strategy_name``; rank 0 writes its timing to ``out``."""
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.strategies import DDPStrategy

    from benchmarks.harness import TrainingClock, bare_trainer
    from gan_lightning.mnist import MNIST5kDataModule
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.tasks import GAN
    from gan_lightning.training import WITHOUT_EMA

    torch.set_num_threads(1)
    pl.seed_everything(0, verbose=False)
    model = GAN(
        generator=DCGANGenerator(latent_dim=64, image_size=28, channels=1, base_width=16),
        discriminator=DCGANDiscriminator(image_size=28, channels=1, base_width=16, norm="none"),
        optimization=WITHOUT_EMA,
    )
    strategy = {
        "gan_ddp": "ddp",  # becomes GANDDPStrategy in GAN.setup()
        "ddp_find_unused": DDPStrategy(find_unused_parameters=True),
        "single_process": "auto",
    }[strategy_name]
    clock = TrainingClock(warmup)
    devices = 1 if strategy_name == "single_process" else 2
    trainer = bare_trainer(warmup + steps, [clock], accelerator=accelerator, devices=devices, strategy=strategy)
    trainer.fit(model, datamodule=MNIST5kDataModule(batch_size=32, val_size=100))
    if trainer.is_global_zero:
        result = {"class": type(trainer.strategy).__name__, "iterations": clock.iterations, "seconds": clock.seconds}
        out.write_text(json.dumps(result))


def measure(args: Any, work: Path) -> dict[str, Any]:
    """Every strategy ``repeats`` times, alternating, each run in its own child process."""
    rates: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    classes: dict[str, str] = {}
    for repeat in range(args.repeats):
        for name in STRATEGIES:
            out = work / f"{name}_{repeat}.json"
            command = [sys.executable, "-m", "benchmarks.ddp", "--worker", name, "--steps", str(args.steps)]
            command += ["--warmup", str(args.warmup), "--out", str(out), "--accelerator", args.accelerator]
            run_child(command, work / f"{name}_{repeat}.log", threads=1).check()
            result = json.loads(out.read_text())
            rates[name].append(result["iterations"] / result["seconds"])
            classes[name] = result["class"]
            print(f"repeat {repeat}: {name:16s} {rates[name][-1]:.2f} it/s", file=sys.stderr)
    return {"rates": rates, "classes": classes}


def report(results: dict[str, Any]) -> str:
    """The table: median iterations/s per strategy, every run, and the ratio to find_unused."""
    rates, classes = results["rates"], results["classes"]
    reference = statistics.median(rates["ddp_find_unused"])
    lines = [
        f"{results['accelerator']}, {results['steps']} timed iterations after {results['warmup']}, "
        f"`--repeats {results['repeats']}`, {results['date']}, load average {results['load_before'][0]} before:",
        "",
        "| strategy | class | iterations/s (median) | runs | vs find_unused |",
        "|---|---|---|---|---|",
    ]
    for name in STRATEGIES:
        median = statistics.median(rates[name])
        runs = ", ".join(f"{rate:.2f}" for rate in rates[name])
        lines.append(f"| {LABELS[name]} | {classes[name]} | {median:.2f} | {runs} | {median / reference:.2f}× |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "ddp", "5 iterations after 2, one repeat")
    add_steps(command, 40, " (timed)")
    command.add_argument("--warmup", type=int, default=5, help="iterations before the timing starts")
    command.add_argument("--repeats", type=int, default=2)
    command.add_argument("--accelerator", default="cpu", help="cpu (gloo) or gpu (nccl)")
    command.add_argument("--worker", choices=STRATEGIES, help=argparse.SUPPRESS)  # the child runs
    args = command.parse_args(argv)
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.out, args.accelerator)
        return
    args = finish(args, "ddp", {"steps": 5, "warmup": 2, "repeats": 1})
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "accelerator": args.accelerator,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "load_before": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="ddp_bench_") as folder:
        results |= measure(args, Path(folder))
    results["load_after"] = load_average()
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
