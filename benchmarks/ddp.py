"""GANDDPStrategy vs Lightning's DDPStrategy(find_unused_parameters=True) on 2 CPU processes.

Both train the same GAN (DCGAN nets at 28×28, base_width 16, non-saturating loss,
n_critic 1, batch 32 per rank, Adam) on embedded MNIST-5k with the gloo backend. Each
strategy runs in its own subprocess, alternating, ``--repeats`` times; the time is measured
on rank 0 from iteration ``--warmup`` to the end, so start-up is excluded.

    python benchmarks/ddp.py --steps 30 --warmup 5 --repeats 2
    python benchmarks/ddp.py --accelerator gpu        # on a machine with 2+ GPUs

Prints a Markdown table (median iterations/second over repeats) for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

STRATEGIES = ("gan_ddp", "ddp_find_unused", "single_process")
REPO_ROOT = Path(__file__).resolve().parents[1]


class IterationTimer:
    """Seconds from the start of iteration ``warmup`` to the end of training (rank 0)."""

    def __init__(self, warmup: int) -> None:
        import lightning.pytorch as pl

        class _Timer(pl.Callback):
            def __init__(inner) -> None:
                inner.start = None
                inner.iterations = 0

            def on_train_batch_start(inner, trainer, pl_module, batch, batch_idx) -> None:
                if trainer.global_step == warmup and inner.start is None:
                    inner.start = time.perf_counter()

            def on_train_batch_end(inner, trainer, pl_module, outputs, batch, batch_idx) -> None:
                if inner.start is not None:
                    inner.iterations += 1

            def on_train_end(inner, trainer, pl_module) -> None:
                inner.seconds = time.perf_counter() - inner.start

        self.callback = _Timer()


def worker(strategy_name: str, steps: int, warmup: int, out: str, accelerator: str) -> None:
    import lightning.pytorch as pl
    import torch
    from lightning.pytorch.strategies import DDPStrategy

    from gan_lightning.data import MNIST5kDataModule
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.tasks import GAN

    torch.set_num_threads(1)
    pl.seed_everything(0, verbose=False)
    model = GAN(
        generator=DCGANGenerator(latent_dim=64, image_size=28, channels=1, base_width=16),
        discriminator=DCGANDiscriminator(image_size=28, channels=1, base_width=16, norm="none"),
        ema_kimg=None,
    )
    strategy = {
        "gan_ddp": "ddp",  # becomes GANDDPStrategy in GAN.setup()
        "ddp_find_unused": DDPStrategy(find_unused_parameters=True),
        "single_process": "auto",
    }[strategy_name]
    timer = IterationTimer(warmup).callback
    trainer = pl.Trainer(
        accelerator=accelerator,
        devices=1 if strategy_name == "single_process" else 2,
        strategy=strategy,
        max_steps=warmup + steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[timer],
    )
    trainer.fit(model, datamodule=MNIST5kDataModule(batch_size=32, val_size=100))
    if trainer.is_global_zero:
        result = {
            "strategy": strategy_name,
            "class": type(trainer.strategy).__name__,
            "iterations": timer.iterations,
            "seconds": timer.seconds,
        }
        Path(out).write_text(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--accelerator", default="cpu", help="cpu (gloo) or gpu (nccl)")
    parser.add_argument("--worker", choices=STRATEGIES)
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.warmup, args.out, args.accelerator)
        return

    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT), "WANDB_MODE": "disabled"}
    rates: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    classes: dict[str, str] = {}
    out = Path("/tmp") / f"ddp_bench_{os.getpid()}.json"
    for repeat in range(args.repeats):
        for name in STRATEGIES:
            command = [sys.executable, __file__, "--worker", name, "--steps", str(args.steps)]
            command += ["--warmup", str(args.warmup), "--out", str(out), "--accelerator", args.accelerator]
            subprocess.run(command, check=True, env=env, cwd=REPO_ROOT, capture_output=True)
            result = json.loads(out.read_text())
            rates[name].append(result["iterations"] / result["seconds"])
            classes[name] = result["class"]
            print(f"repeat {repeat}: {name:16s} {rates[name][-1]:.2f} it/s", file=sys.stderr)
    out.unlink(missing_ok=True)

    reference = statistics.median(rates["ddp_find_unused"])
    print("| strategy | class | iterations/s (median) | runs | vs find_unused |")
    print("|---|---|---|---|---|")
    for name in STRATEGIES:
        median = statistics.median(rates[name])
        runs = ", ".join(f"{r:.2f}" for r in rates[name])
        print(f"| {name} | {classes[name]} | {median:.2f} | {runs} | {median / reference:.2f}× |")


if __name__ == "__main__":
    main()
