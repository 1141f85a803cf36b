"""The 2D mode-collapse benchmark (PacGAN protocol, ../shared/anchors.md) for this repo's GAN.

Ring of 8 and grid of 25 Gaussians; after training, 2,500 samples per seed are scored with
:func:`gan_lightning.metrics.toy2d.mode_statistics` (modes covered, % high quality, reverse
KL) and reported as mean ± standard error over seeds.

Every configuration trains through the same ``GAN`` LightningModule and a small Trainer.
To fit 10 seeds into a few minutes on 2 CPU cores, the seeds train *side by side*: the
generator and discriminator are "seed-batched" MLPs, S independent networks evaluated with
one batched matmul, each seeing only its own slice of every batch. The losses are means
over the slices, so each member's gradient is its own loss's gradient divided by S, which
Adam's scale invariance absorbs: the members are S independent GANs that share only the
Python overhead.

    python benchmarks/toy2d.py                       # all configurations, 10 seeds
    python benchmarks/toy2d.py --seeds 3 --steps 500  # a quick look
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from gan_lightning.data.toy2d import GaussianMixture2DDataModule
from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.networks.pacgan import PackedDiscriminator
from gan_lightning.objectives import NonSaturatingLoss, WassersteinLoss
from gan_lightning.regularizers import GradientPenalty, R1Penalty
from gan_lightning.tasks import GAN

EVAL_SAMPLES = 2_500


class SeedBatchedLinear(nn.Module):
    """``members`` independent ``nn.Linear`` layers; input (S, b, in) → (S, b, out)."""

    def __init__(self, members: int, in_features: int, out_features: int) -> None:
        super().__init__()
        layers = [nn.Linear(in_features, out_features) for _ in range(members)]  # PyTorch's default init
        self.weight = nn.Parameter(torch.stack([layer.weight.detach().t() for layer in layers]))
        self.bias = nn.Parameter(torch.stack([layer.bias.detach() for layer in layers]).unsqueeze(1))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class SeedBatchedMLP(nn.Module):
    """S MLPs side by side: rows [s·b, (s+1)·b) of a (S·b, in) batch go through member s."""

    def __init__(self, members: int, sizes: list[int], activation: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.members = members
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            layers.append(SeedBatchedLinear(members, fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(activation())
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        batch = x.shape[0]
        if batch % self.members:
            raise ValueError(f"batch of {batch} rows does not split into {self.members} seeds.")
        out = self.net(x.reshape(self.members, batch // self.members, -1))
        return out.reshape(batch, -1)


class SeedBatchedGenerator(SeedBatchedMLP):
    def __init__(self, members: int, latent_dim: int, hidden: list[int]) -> None:
        super().__init__(members, [latent_dim, *hidden, 2], lambda: nn.ReLU())
        self.latent_dim = latent_dim


class SeedBatchedDiscriminator(SeedBatchedMLP):
    def __init__(self, members: int, in_features: int, hidden: list[int]) -> None:
        super().__init__(members, [in_features, *hidden, 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.flatten(start_dim=1)).flatten()


class SeedBatchedData(GaussianMixture2DDataModule):
    """S independent streams of the mixture, one per seed, interleaved into (S·b) batches."""

    def __init__(self, layout: str, members: int, batch_size: int, num_samples: int = 64_000) -> None:
        super().__init__(layout, num_samples=num_samples * members, batch_size=batch_size * members, val_size=0)

    def val_dataloader(self) -> list:
        return []


def configurations(
    members: int, hidden: int, latent_dim: int, lr: float, steps: int, ema_kimg: float | None = 10.0
) -> dict[str, Callable[[], GAN]]:
    """name → GAN factory. Each seed-batched network holds all seeds.

    ``gan_r1`` is ``gan`` plus R1 (γ = 1, Mescheder et al. 2018) and learning rates that decay
    linearly to zero over the run, so the generator settles on the modes instead of hopping
    between them or jittering around one."""
    adam = partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.999))
    decay = partial(torch.optim.lr_scheduler.LinearLR, start_factor=1.0, end_factor=0.0, total_iters=steps)

    def generator() -> nn.Module:
        return SeedBatchedGenerator(members, latent_dim, [hidden] * 3)

    def build(discriminator: nn.Module, objective=None, regularizers=None, n_critic=1, optimizer=adam, schedule=None):
        return GAN(
            generator(),
            discriminator,
            objective or NonSaturatingLoss(),
            regularizers=regularizers,
            n_critic=n_critic,
            generator_optimizer=optimizer,
            discriminator_optimizer=optimizer,
            generator_scheduler=schedule,
            discriminator_scheduler=schedule,
            ema_kimg=ema_kimg,
        )

    def vanilla() -> GAN:
        return build(SeedBatchedDiscriminator(members, 2, [hidden] * 2))

    def vanilla_r1() -> GAN:
        return build(SeedBatchedDiscriminator(members, 2, [hidden] * 2), regularizers=[R1Penalty(1.0)], schedule=decay)

    def pacgan(pack: int) -> GAN:
        return build(PackedDiscriminator(SeedBatchedDiscriminator(members, 2 * pack, [hidden] * 2), pack))

    def wgan_gp() -> GAN:
        adam_gp = partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.9))
        discriminator = SeedBatchedDiscriminator(members, 2, [hidden] * 2)
        return build(discriminator, WassersteinLoss(), [GradientPenalty(weight=0.1)], 5, adam_gp)

    return {
        "gan": vanilla,
        "gan_r1": vanilla_r1,
        "pacgan2": partial(pacgan, 2),
        "pacgan4": partial(pacgan, 4),
        "wgan_gp": wgan_gp,
    }


def evaluate(model: GAN, data: GaussianMixture2DDataModule, members: int, seed: int) -> list[dict[str, float]]:
    """The protocol's statistics for each seed's generator on 2,500 fresh samples."""
    torch.manual_seed(10_000 + seed)
    samples = model.sample(EVAL_SAMPLES * members).view(members, EVAL_SAMPLES, 2)
    return [mode_statistics(s, data.modes, data.std).as_dict() for s in samples]


def mean_and_stderr(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float("nan")
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(variance / n)


def run(name: str, layout: str, args: argparse.Namespace) -> dict:
    pl.seed_everything(args.seed, verbose=False)
    model = configurations(args.seeds, args.hidden, args.latent_dim, args.lr, args.steps, args.ema_kimg)[name]()
    data = SeedBatchedData(layout, args.seeds, args.batch_size)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=args.steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    start = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - start
    per_seed = evaluate(model, data, args.seeds, args.seed)
    return {"name": name, "layout": layout, "seconds": seconds, "per_seed": per_seed}


def format_row(result: dict, num_modes: int) -> str:
    """One Markdown row. Reverse KL is undefined (inf) for a seed with no high-quality
    sample at all; it is averaged over the other seeds and the count is shown."""
    per_seed = result["per_seed"]
    modes = mean_and_stderr([s["modes_covered"] for s in per_seed])
    hq = mean_and_stderr([100 * s["high_quality_fraction"] for s in per_seed])
    finite = [s["reverse_kl"] for s in per_seed if math.isfinite(s["reverse_kl"])]
    if finite:
        kl_mean, kl_err = mean_and_stderr(finite)
        kl = f"{kl_mean:.2f}±{kl_err:.2f}"
        kl += "" if len(finite) == len(per_seed) else f" ({len(finite)} of {len(per_seed)} seeds)"
    else:
        kl = "undefined (no seed has a high-quality sample)"
    return (
        f"| {result['name']} | {result['layout']} | {modes[0]:.1f}±{modes[1]:.1f} / {num_modes} "
        f"| {hq[0]:.1f}±{hq[1]:.1f} | {kl} | {result['seconds']:.0f} s |"
    )


HEADER = "| config | data | modes covered | high quality % | reverse KL | train time |\n|---|---|---|---|---|---|"
NUM_MODES = {"ring": 8, "grid": 25}


def print_table(results: list[dict]) -> None:
    print(HEADER)
    for result in results:
        print(format_row(result, NUM_MODES[result["layout"]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", default=["gan", "pacgan4", "gan_r1"])
    parser.add_argument("--layouts", nargs="+", default=["ring", "grid"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=2_000, help="generator updates per run")
    parser.add_argument("--batch-size", type=int, default=128, help="per seed")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--latent-dim", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ema-kimg",
        type=lambda v: None if v.lower() == "none" else float(v),
        default=10.0,
        help="half-life (thousands of images, per seed-batched network) of the EMA of G used for the evaluated "
        "samples; 'none' evaluates the raw generator",
    )
    parser.add_argument("--output", type=Path, default=None, help="write all results as JSON here")
    parser.add_argument("--table", type=Path, default=None, help="only print the table of a saved --output")
    args = parser.parse_args()
    if args.table is not None:
        print_table(json.loads(args.table.read_text())["results"])
        return

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    print(HEADER)
    results = []
    for layout in args.layouts:
        for name in args.configs:
            result = run(name, layout, args)
            results.append(result)
            print(format_row(result, NUM_MODES[layout]), flush=True)
    if args.output is not None:
        args.output.write_text(json.dumps({"args": vars(args) | {"output": str(args.output)}, "results": results}))


if __name__ == "__main__":
    main()
