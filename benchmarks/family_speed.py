"""Seconds per training iteration (n_critic D updates + 1 G update) of each family config
at its own batch size and network size, on this machine's CPU.

    python -m benchmarks.family_speed                          # every family config, 12 iterations
    python -m benchmarks.family_speed --configs sngan cgan --steps 30
    python -m benchmarks.family_speed --quick                  # gan and dcgan, 3 iterations

The first ``--warmup`` iterations are not timed. Validation, checkpoints, sample grids and
loggers are off, so this is the training loop alone (docs/models.md's "speed" column).
"""

from __future__ import annotations

import datetime
from typing import Any

import torch

from benchmarks.harness import (
    CONFIGS,
    TrainingClock,
    add_common_flags,
    add_steps,
    add_threads,
    bare_trainer,
    cli_in_process,
    finish,
    load_average,
    parser,
    quiet_lightning,
    write_results,
)

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


def seconds_per_iteration(config: str, steps: int, warmup: int) -> float:
    """The config's model and data under a bare Trainer: training seconds per timed iteration."""
    cli = cli_in_process(
        CONFIGS / f"{config}.yaml",
        f"--trainer.max_steps={steps + warmup}",
        "--trainer.limit_val_batches=0",
        "--samples.every_n_epochs=100000",
        progress=False,
        run=False,
    )
    clock = TrainingClock(warmup)
    bare_trainer(steps + warmup, [clock]).fit(cli.model, cli.datamodule)
    return clock.seconds / clock.iterations


def report(results: dict[str, Any]) -> str:
    """The table: seconds per iteration of each config."""
    lines = [
        f"{results['steps']} timed iterations after {results['warmup']}, {results['threads']} thread(s), "
        f"{results['date']}, load average {results['load_before'][0]} before:",
        "",
        "| config | s / iteration |",
        "|---|---|",
    ]
    lines += [f"| `{config}` | {seconds:.3f} |" for config, seconds in results["seconds_per_iteration"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "family_speed", "gan and dcgan, 3 iterations after 1")
    add_threads(command)
    add_steps(command, 12, " (timed)")
    command.add_argument("--configs", nargs="+", default=FAMILY, help="config names in configs/")
    command.add_argument("--warmup", type=int, default=3, help="iterations before the timing starts")
    quick = {"configs": ["gan", "dcgan"], "steps": 3, "warmup": 1}
    args = finish(command.parse_args(argv), "family_speed", quick)
    torch.set_num_threads(args.threads)
    quiet_lightning()
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "steps": args.steps,
        "warmup": args.warmup,
        "threads": args.threads,
        "load_before": load_average(),
        "seconds_per_iteration": {},
    }
    for config in args.configs:
        results["seconds_per_iteration"][config] = seconds_per_iteration(config, args.steps, args.warmup)
        print(f"| {config} | {results['seconds_per_iteration'][config]:.3f} |", flush=True)
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
