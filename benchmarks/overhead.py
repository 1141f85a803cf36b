"""Framework overhead: the GAN module under a Lightning Trainer vs a hand-written PyTorch loop
doing the same math (WGAN-GP, DCGAN nets of configs/wgan.yaml, n_critic=5, batch 64, EMA,
per-network gradient norms), measured side by side, interleaved, in one process.

    python benchmarks/overhead.py --iterations 60 --repeats 3

Prints iterations/second for both and the relative overhead; paste the table into
BENCHMARKS.md. Timing starts after ``--warmup`` iterations in both loops.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.regularizers import DiscriminatorBatch, GradientPenalty
from gan_lightning.tasks import GAN
from gan_lightning.tasks.ema import ema_beta, update_ema

N_CRITIC, BATCH, LATENT = 5, 64, 64


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


def hand_written(iterations: int, warmup: int) -> float:
    generator, discriminator = networks(0)
    ema = copy.deepcopy(generator).requires_grad_(False)
    opt_g, opt_d = adam(generator.parameters()), adam(discriminator.parameters())
    objective, penalty = WassersteinLoss(), GradientPenalty(10.0)
    loader = DataLoader(data(BATCH * (iterations + warmup)), batch_size=BATCH, shuffle=True, drop_last=True)
    start = 0.0
    for iteration, (real, _) in enumerate(loader):
        if iteration == warmup:
            start = time.perf_counter()
        discriminator.requires_grad_(True)
        generator.requires_grad_(False)
        for _ in range(N_CRITIC):
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            loss = objective.discriminator_loss(discriminator(real), discriminator(fake))
            loss = loss + penalty(DiscriminatorBatch(discriminator, real, fake))[0]
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.get_total_norm([p.grad for p in discriminator.parameters()])
            opt_d.step()
            opt_d.zero_grad(set_to_none=True)
        discriminator.requires_grad_(False)
        generator.requires_grad_(True)
        loss = objective.generator_loss(discriminator(generator(torch.randn(BATCH, LATENT))))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.get_total_norm([p.grad for p in generator.parameters()])
        opt_g.step()
        opt_g.zero_grad(set_to_none=True)
        update_ema(ema, generator, ema_beta((iteration + 1) * BATCH, BATCH, 10.0, 0.05))
    return iterations / (time.perf_counter() - start)


class _Clock(pl.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end = warmup, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.end = time.perf_counter()


def lightning_module(iterations: int, warmup: int) -> float:
    generator, discriminator = networks(0)
    model = GAN(
        generator,
        discriminator,
        objective=WassersteinLoss(),
        regularizers=[GradientPenalty(10.0)],
        n_critic=N_CRITIC,
        real_batches="reuse",  # the hand-written loop below reuses its batch too
        generator_optimizer=adam,
        discriminator_optimizer=adam,
    )
    clock = _Clock(warmup)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=iterations + warmup,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[clock],
    )
    loader = DataLoader(data(BATCH * (iterations + warmup)), batch_size=BATCH, shuffle=True, drop_last=True)
    trainer.fit(model, loader)
    return iterations / (clock.end - clock.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    raw, ours = [], []
    for _ in range(args.repeats):
        raw.append(hand_written(args.iterations, args.warmup))
        ours.append(lightning_module(args.iterations, args.warmup))
    raw_median, ours_median = statistics.median(raw), statistics.median(ours)
    print(f"threads={args.threads} iterations={args.iterations} repeats={args.repeats}")
    print(f"hand-written loop : {raw_median:6.2f} it/s  (runs: {', '.join(f'{r:.2f}' for r in raw)})")
    print(f"GAN + Trainer     : {ours_median:6.2f} it/s  (runs: {', '.join(f'{r:.2f}' for r in ours)})")
    print(f"overhead          : {100 * (raw_median / ours_median - 1):+.1f} %")


if __name__ == "__main__":
    main()
