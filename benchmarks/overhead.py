"""Framework overhead: the GAN module under a Lightning Trainer vs a hand-written PyTorch loop
doing the same math (WGAN-GP, DCGAN nets of configs/wgan.yaml, n_critic=5, batch 64, EMA,
per-network gradient norms every 50 iterations, when the module logs them), measured side by
side, interleaved, in one process.

    python -m benchmarks.overhead --steps 30 --repeats 3 --threads 1 2
    python -m benchmarks.overhead --quick          # 5 iterations, 1 repeat, 1 thread: a smoke run

Iterations per second of both, medians over ``--repeats``, and the relative overhead, per
thread count. Timing starts after ``--warmup`` iterations in both loops.
"""

from __future__ import annotations

import copy
import datetime
import statistics
import time
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from benchmarks.harness import (
    TrainingClock,
    add_common_flags,
    add_steps,
    bare_trainer,
    finish,
    load_average,
    parser,
    quiet_lightning,
    write_results,
)
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.regularizers import DiscriminatorBatch, GradientPenalty
from gan_lightning.tasks import GAN
from gan_lightning.training import Optimization, RoleOptimization, ema_beta, update_ema

N_CRITIC, BATCH, LATENT = 5, 64, 64
LOG_EVERY = 50  # Lightning's default log_every_n_steps: the module logs gradient norms this often


def networks(seed: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    torch.manual_seed(seed)
    generator = DCGANGenerator(latent_dim=LATENT, image_size=28, channels=1, base_width=32)
    discriminator = DCGANDiscriminator(image_size=28, channels=1, base_width=32, norm="layer")
    return generator, discriminator


def adam(params):
    return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.9))


def data(num: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.rand(num, 1, 28, 28, generator=generator) * 2 - 1, torch.zeros(num, dtype=torch.long))


def hand_written(steps: int, warmup: int) -> float:
    """Iterations per second of the plain PyTorch loop."""
    generator, discriminator = networks(0)
    ema = copy.deepcopy(generator).requires_grad_(False)
    opt_g, opt_d = adam(generator.parameters()), adam(discriminator.parameters())
    objective, penalty = WassersteinLoss(), GradientPenalty(10.0)
    loader = DataLoader(data(BATCH * (steps + warmup)), batch_size=BATCH, shuffle=True, drop_last=True)
    start = 0.0
    for iteration, (real, _) in enumerate(loader):
        if iteration == warmup:
            start = time.perf_counter()
        discriminator.requires_grad_(True)
        generator.requires_grad_(False)
        for k in range(N_CRITIC):
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            loss = objective.discriminator_loss(discriminator(real), discriminator(fake))
            loss = loss + penalty(DiscriminatorBatch(discriminator, real, fake))[0]
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            if (iteration + 1) % LOG_EVERY == 0 and k == N_CRITIC - 1:  # logged norms, at the module's cadence
                torch.nn.utils.get_total_norm([p.grad for p in discriminator.parameters()])
            opt_d.step()
            opt_d.zero_grad(set_to_none=True)
        discriminator.requires_grad_(False)
        generator.requires_grad_(True)
        loss = objective.generator_loss(discriminator(generator(torch.randn(BATCH, LATENT))))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if (iteration + 1) % LOG_EVERY == 0:
            torch.nn.utils.get_total_norm([p.grad for p in generator.parameters()])
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        update_ema(ema, generator, ema_beta((iteration + 1) * BATCH, BATCH, 10.0, 0.05))
    return steps / (time.perf_counter() - start)


def lightning_module(steps: int, warmup: int) -> float:
    """Iterations per second of ``GAN`` under a Trainer, the same math."""
    generator, discriminator = networks(0)
    model = GAN(
        generator,
        discriminator,
        objective=WassersteinLoss(),
        regularizers=[GradientPenalty(10.0)],
        n_critic=N_CRITIC,
        real_batches="reuse",  # the hand-written loop above reuses its batch too
        optimization=Optimization(RoleOptimization(adam), RoleOptimization(adam)),
    )
    clock = TrainingClock(warmup)
    loader = DataLoader(data(BATCH * (steps + warmup)), batch_size=BATCH, shuffle=True, drop_last=True)
    bare_trainer(steps + warmup, [clock]).fit(model, loader)
    return clock.rate


def measure(threads: int, steps: int, warmup: int, repeats: int) -> dict[str, Any]:
    """Both loops, alternated ``repeats`` times at ``threads`` threads: every run's rate."""
    torch.set_num_threads(threads)
    raw, ours = [], []
    for _ in range(repeats):
        raw.append(hand_written(steps, warmup))
        ours.append(lightning_module(steps, warmup))
    return {"threads": threads, "hand_written": raw, "lightning": ours, "load_after": load_average()}


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: medians per thread count and the overhead."""
    lines = [
        f"{results['steps']} timed iterations after {results['warmup']}, medians of {results['repeats']} "
        f"({results['date']}):",
        "",
        "| threads | hand-written | GAN + Trainer | overhead | runs (hand-written / GAN + Trainer) |",
        "|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        raw, ours = statistics.median(row["hand_written"]), statistics.median(row["lightning"])
        runs = (
            f"{', '.join(f'{r:.2f}' for r in row['hand_written'])} / {', '.join(f'{r:.2f}' for r in row['lightning'])}"
        )
        lines.append(
            f"| {row['threads']} | {raw:.2f} it/s | {ours:.2f} it/s | {100 * (raw / ours - 1):+.1f} % | {runs} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "overhead", "5 iterations after 2, one repeat, one thread")
    command.add_argument("--threads", type=int, nargs="+", default=[1], help="thread counts, one row each")
    add_steps(command, 60, " (timed)")
    command.add_argument("--warmup", type=int, default=5, help="iterations before the timing starts")
    command.add_argument("--repeats", type=int, default=3)
    args = finish(command.parse_args(argv), "overhead", {"steps": 5, "warmup": 2, "repeats": 1, "threads": [1]})
    quiet_lightning()
    rows = [measure(threads, args.steps, args.warmup, args.repeats) for threads in args.threads]
    results = {
        "date": datetime.date.today().isoformat(),
        "quick": args.quick,
        "steps": args.steps,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "rows": rows,
    }
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
