"""Seconds per training iteration (n_critic D updates + 1 G update) of each family config
at its own batch size and network size, on this machine's CPU.

    python benchmarks/family_speed.py                     # every family config, 12 iterations
    python benchmarks/family_speed.py --configs sngan cgan --iterations 30

The first ``--warmup`` iterations are not timed. Validation, checkpoints, sample grids and
loggers are off, so this is the training loop alone.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import lightning.pytorch as pl
import torch

from gan_lightning.cli import GANLightningCLI

FAMILY = [
    "acgan",
    "gan",
    "gan_2d",
    "pacgan_2d",
    "dcgan",
    "wgan",
    "wgan_clip",
    "lsgan",
    "sngan",
    "r1",
    "cgan",
    "stylegan",
]


class IterationTimer(pl.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.timed = 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.start is not None:
            self.timed += 1


def seconds_per_iteration(config: str, iterations: int, warmup: int) -> float:
    cli = GANLightningCLI(
        args=[
            "--config",
            f"configs/{config}.yaml",
            f"--trainer.max_steps={iterations + warmup}",
            "--trainer.accelerator=cpu",
            "--trainer.logger=false",
            "--trainer.limit_val_batches=0",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            "--samples.every_n_epochs=100000",
        ],
        run=False,
    )
    timer = IterationTimer(warmup)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=iterations + warmup,
        logger=False,
        limit_val_batches=0,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        callbacks=[timer],
    )
    trainer.fit(cli.model, cli.datamodule)
    assert timer.start is not None
    return (time.perf_counter() - timer.start) / timer.timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=FAMILY)
    parser.add_argument("--iterations", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    print("| config | s / iteration | iterations timed |")
    print("|---|---|---|")
    for config in args.configs:
        seconds = seconds_per_iteration(config, args.iterations, args.warmup)
        print(f"| {config} | {seconds:.3f} | {args.iterations} |", flush=True)


if __name__ == "__main__":
    main()
