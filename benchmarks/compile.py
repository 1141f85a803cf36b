"""Compiled training phases (``--model.init_args.compile=true``): iterations per second of the
GAN module eager and compiled, beside a hand-written eager PyTorch loop doing the same maths
on the same networks, for configs/wgan.yaml (WGAN-GP: its gradient penalty, a double backward,
runs the eager critic) and configs/dcgan.yaml (no penalty), plus what was tried on top of
compile: channels_last networks and Adam(fused=True).

    python -m benchmarks.compile                       # wgan and dcgan, 30 timed iterations after 3, 2 repeats
    python -m benchmarks.compile --configs dcgan --steps 40
    python -m benchmarks.compile --quick               # dcgan, 2 iterations after 1, aot_eager: a smoke run

Each config's own model and real data (the embedded MNIST-5k), validation and sample grids
off, one thread by default. The warm-up iterations hold the compilation (tens of seconds per
graph on a CPU); their wall time is reported apart. Runs of the variants alternate, so a
change in the machine's load hits them alike; the table shows medians of iterations per
wall second and per CPU second of this process (steadier on a shared machine) and the load
average.
"""

from __future__ import annotations

import datetime
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

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
from gan_lightning.batch import split_batch
from gan_lightning.regularizers import DiscriminatorBatch
from gan_lightning.tasks import GAN
from gan_lightning.training import Optimization, ema_beta, update_ema

LOG_EVERY = 50
VARIANTS = ("hand-written", "eager", "compiled", "compiled + channels_last", "compiled + fused Adam")


def build(config: str, steps: int, compile: bool | str) -> tuple[GAN, Any]:
    """The config's model (``compile`` as given) and data module, for ``steps`` iterations."""
    cli = cli_in_process(
        CONFIGS / f"{config}.yaml",
        f"--trainer.max_steps={steps}",
        "--trainer.limit_val_batches=0",
        "--samples.every_n_epochs=100000",
        f"--model.init_args.compile={str(compile).lower()}",
        progress=False,
        run=False,
    )
    return cli.model, cli.datamodule


def fused_adam(optimization: Optimization) -> Optimization:
    """``optimization`` with each role's optimizer rebuilt with ``fused=True`` (one kernel per step)."""

    def fused(factory: Callable[..., torch.optim.Optimizer] | None) -> Callable[..., torch.optim.Optimizer]:
        def build(parameters: Any) -> torch.optim.Optimizer:
            parameters = list(parameters)
            optimizer = (factory or torch.optim.Adam)(parameters)
            return type(optimizer)(parameters, **{**optimizer.defaults, "foreach": None, "fused": True})

        return build

    return replace(
        optimization,
        generator=replace(optimization.generator, optimizer=fused(optimization.generator.optimizer)),
        discriminator=replace(optimization.discriminator, optimizer=fused(optimization.discriminator.optimizer)),
    )


def channels_last(model: GAN) -> None:
    for network in (model.generator, model.discriminator):
        network.to(memory_format=torch.channels_last)


class CpuClock(pl.Callback):
    """This process's CPU seconds over the timed iterations (from iteration ``warmup`` on): on a
    shared machine, wall time measures the neighbours too; CPU time at one thread much less."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.seconds = float("nan")

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, idx: int) -> None:
        if self.start is None and trainer.global_step >= self.warmup:
            self.start = time.process_time()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert self.start is not None, "fewer iterations than the warm-up"
        self.seconds = time.process_time() - self.start


def lightning_run(config: str, steps: int, warmup: int, backend: str | None, variant: str) -> dict[str, float]:
    """The GAN module under a bare Trainer: timed iterations per second and warm-up seconds."""
    model, data = build(config, steps + warmup, backend or False)
    if variant.endswith("channels_last"):
        channels_last(model)
    if variant.endswith("fused Adam"):
        model.optimization = fused_adam(model.optimization)
    clock, cpu = TrainingClock(warmup), CpuClock(warmup)
    start = time.perf_counter()
    bare_trainer(steps + warmup, [clock, cpu]).fit(model, data)
    warmup_seconds = time.perf_counter() - start - clock.seconds
    return {"rate": clock.rate, "cpu_rate": clock.iterations / cpu.seconds, "warmup_seconds": warmup_seconds}


def batches(data: Any, per_step: int) -> Iterator[Any]:
    """The data module's training batches (``per_step`` real batches each), epoch after epoch."""
    data.batches_per_step = per_step
    data.setup("fit")
    while True:
        yield from data.train_dataloader()


def hand_written_run(config: str, steps: int, warmup: int) -> dict[str, float]:
    """The same maths without Lightning, on the config's networks, optimizers and data:
    ``n_critic`` critic updates on fresh real batches (+ the every-step penalties), one
    generator update, the schedules and the EMA, and the gradient norms the module logs, at its
    cadence (every ``LOG_EVERY``-th iteration, Lightning's default ``log_every_n_steps``)."""
    model, data = build(config, steps + warmup, False)
    generator, discriminator, objective = model.generator, model.discriminator, model.objective
    configured = model.configure_optimizers()
    optimizers, schedulers = configured if isinstance(configured, tuple) else (configured, [])
    opt_g, opt_d = optimizers  # role order: generator, discriminator
    penalties = [reg for reg in model.regularizers if reg.interval == 1]

    def update(optimizer: torch.optim.Optimizer, network: nn.Module, loss: torch.Tensor, logged: bool) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if logged:  # the norm a run logs, at the module's cadence
            torch.nn.utils.get_total_norm([p.grad for p in network.parameters() if p.grad is not None])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    start, cpu_start = time.perf_counter(), time.process_time()
    for iteration, batch in enumerate(batches(data, model.n_critic)):
        if iteration == warmup:
            start, cpu_start = time.perf_counter(), time.process_time()
        if iteration == steps + warmup:
            break
        real = split_batch(batch)[0]
        size = real.shape[0] // model.n_critic
        logged = (iteration + 1) % LOG_EVERY == 0
        discriminator.requires_grad_(True)
        generator.requires_grad_(False)
        for k, real_k in enumerate(real.split(size)):
            with torch.no_grad():
                fake = generator(torch.randn(size, model.latent_dim))
            loss = objective.discriminator_loss(discriminator(real_k), discriminator(fake))
            for penalty in penalties:
                loss = loss + penalty(DiscriminatorBatch(discriminator, real_k, fake))[0]
            update(opt_d, discriminator, loss, logged and k == model.n_critic - 1)
        discriminator.requires_grad_(False)
        generator.requires_grad_(True)
        fake = generator(torch.randn(size, model.latent_dim))
        update(opt_g, generator, objective.generator_loss(discriminator(fake)), logged)
        if model.generator_ema is not None:
            beta = ema_beta(iteration * size, size, model.ema_kimg, model.ema_rampup)
            update_ema(model.generator_ema, generator, beta)
        for scheduler in schedulers:
            scheduler.step()
    cpu_rate = steps / (time.process_time() - cpu_start)
    return {"rate": steps / (time.perf_counter() - start), "cpu_rate": cpu_rate, "warmup_seconds": 0.0}


def measure(config: str, steps: int, warmup: int, repeats: int, backend: str, variants: list[str]) -> dict[str, Any]:
    """Every variant ``repeats`` times, alternated: each run's rate and warm-up seconds."""
    runs: dict[str, list[dict[str, float]]] = {variant: [] for variant in variants}
    load_before = load_average()
    for _ in range(repeats):
        for variant in variants:
            if variant == "hand-written":
                run = hand_written_run(config, steps, warmup)
            else:
                run = lightning_run(config, steps, warmup, None if variant == "eager" else backend, variant)
            runs[variant].append(run)
            print(
                f"{config:6s} {variant:26s} {run['rate']:.2f} it/s, {run['cpu_rate']:.2f} it/CPU-s "
                f"(warm-up {run['warmup_seconds']:.0f} s)",
                flush=True,
            )
    return {"config": config, "runs": runs, "load_before": load_before, "load_after": load_average()}


def median_rate(row: dict[str, Any], variant: str, key: str = "rate") -> float | None:
    runs = row["runs"].get(variant)
    return statistics.median(run[key] for run in runs) if runs else None


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: medians per config and variant, in iterations per wall second
    and per CPU second, the latter relative to the hand-written loop and to eager."""
    lines = [
        f"{results['steps']} timed iterations after {results['warmup']} (which hold the compilation), "
        f"medians of {results['repeats']}, {results['threads']} thread(s), backend `{results['backend']}`, "
        f"{results['date']}; {results['machine']}.",
        "",
        "| config | variant | it/s (wall) | it/CPU-s | CPU: × hand-written | CPU: × eager | warm-up s | load (1 min) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        raw, eager = median_rate(row, "hand-written", "cpu_rate"), median_rate(row, "eager", "cpu_rate")
        load = f"{row['load_before'][0]} → {row['load_after'][0]}"
        for variant, runs in row["runs"].items():
            wall, cpu = median_rate(row, variant), median_rate(row, variant, "cpu_rate")
            versus_raw = f"{cpu / raw:.2f}" if raw else "–"
            versus_eager = f"{cpu / eager:.2f}" if eager else "–"
            warmup = statistics.median(run["warmup_seconds"] for run in runs)
            lines.append(
                f"| `{row['config']}` | {variant} | {wall:.2f} | {cpu:.2f} | {versus_raw} | {versus_eager} "
                f"| {warmup:.0f} | {load} |"
            )
    return "\n".join(lines)


def machine() -> str:
    from benchmarks.run import describe
    from benchmarks.run import machine as host

    return describe(host())


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "compile", "dcgan, 2 iterations after 1, one repeat, backend aot_eager")
    add_threads(command)
    add_steps(command, 30, " (timed)")
    command.add_argument("--warmup", type=int, default=3, help="iterations before the timing starts")
    command.add_argument("--repeats", type=int, default=2)
    command.add_argument("--configs", nargs="+", default=["wgan", "dcgan"], help="config names in configs/")
    command.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS, metavar="VARIANT")
    command.add_argument("--backend", default="inductor", help="torch.compile backend of the compiled variants")
    quick = {
        "configs": ["dcgan"],
        "steps": 2,
        "warmup": 1,
        "repeats": 1,
        "backend": "aot_eager",
        "variants": ["hand-written", "eager", "compiled"],
    }
    args = finish(command.parse_args(argv), "compile", quick)
    torch.set_num_threads(args.threads)
    quiet_lightning()
    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "threads": args.threads,
        "backend": args.backend,
        "machine": machine(),
        "rows": [],
    }
    for config in args.configs:
        results["rows"].append(measure(config, args.steps, args.warmup, args.repeats, args.backend, args.variants))
        write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
