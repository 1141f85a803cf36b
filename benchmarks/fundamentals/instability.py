"""Instability across seeds, and what stabilises it: one config, 10 seeds, trained side by
side (the seed-batched networks of :mod:`benchmarks.toy2d`): the plain non-saturating GAN
against stabilised recipes (R1, LR decay, EMA of G, and TTUR). Per-seed final modes /
high-quality % / reverse KL and every seed's loss curves.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

from benchmarks.harness import Every, bare_trainer, pyplot, save_figure
from benchmarks.toy2d import (
    SeedBatchedData,
    SeedBatchedDiscriminator,
    SeedBatchedGenerator,
    configurations,
    plain_statistics,
)
from gan_lightning.data.toy2d import sample_mixture
from gan_lightning.objectives import NonSaturatingLoss
from gan_lightning.regularizers import R1Penalty
from gan_lightning.tasks import GAN
from gan_lightning.training import Optimization, RoleOptimization

TITLE = "Instability across seeds, and what stabilises it"
FIGURE = "instability.png"


def instability_recipes(members: int, steps: int) -> dict[str, Callable[[], GAN]]:
    """The plain GAN of configs/gan_2d.yaml (raw G evaluated), and the stabilised recipes:
    :mod:`benchmarks.toy2d`'s ``gan_r1`` (R1 γ = 1, both lrs decaying to 0, EMA of G) and the same with
    TTUR (Heusel et al. 2017: D's lr twice G's; G keeps the baseline's)."""
    hidden, latent_dim, lr = 128, 8, 1e-3
    decay = partial(torch.optim.lr_scheduler.LinearLR, start_factor=1.0, end_factor=0.0, total_iters=steps)

    def ttur() -> GAN:
        return GAN(
            SeedBatchedGenerator(members, latent_dim, [hidden] * 3),
            SeedBatchedDiscriminator(members, 2, [hidden] * 2),
            NonSaturatingLoss(),
            regularizers=[R1Penalty(1.0)],
            optimization=Optimization(
                generator=RoleOptimization(partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.999)), decay),
                discriminator=RoleOptimization(partial(torch.optim.Adam, lr=2 * lr, betas=(0.5, 0.999)), decay),
                ema_kimg=10.0,
            ),
        )

    return {
        "plain GAN": configurations(members, hidden, latent_dim, lr, steps, ema_kimg=None)["gan"],
        "R1 + lr decay + EMA": configurations(members, hidden, latent_dim, lr, steps, ema_kimg=10.0)["gan_r1"],
        "R1 + TTUR + lr decay + EMA": ttur,
    }


def per_seed_losses(module: GAN, real: Tensor, members: int, latent_stream: torch.Generator) -> tuple[list, list]:
    """Each seed's D and G loss on its own slice of ``real`` and of a fresh fake batch."""
    fake = module.sample(len(real), use_ema=False, generator=latent_stream)
    real_logits = module.discriminator(real).view(members, -1)
    fake_logits = module.discriminator(fake).view(members, -1)
    objective = module.objective
    d = [objective.discriminator_loss(r, f).item() for r, f in zip(real_logits, fake_logits, strict=True)]
    g = [objective.generator_loss(f).item() for f in fake_logits]
    return d, g


def measure(quick: bool, seed: int = 0) -> dict:
    members, steps, every, batch_size = (3, 300, 10, 128) if quick else (10, 2000, 10, 128)
    recipes = {}
    for name, factory in instability_recipes(members, steps).items():
        pl.seed_everything(seed, verbose=False)
        model = factory()
        data = SeedBatchedData("ring", members, batch_size)
        latent_stream = torch.Generator().manual_seed(seed + 1)
        probe_real = torch.Generator().manual_seed(seed + 2)
        curve: list[dict] = []

        def probe(module: GAN, iteration: int, curve=curve, data=data, latent_stream=latent_stream, rng=probe_real):
            real, _ = sample_mixture(data.modes, data.std, members * batch_size, rng)
            d, g = per_seed_losses(module, real, members, latent_stream)
            curve.append({"iteration": iteration, "d_loss": d, "g_loss": g})

        start = time.perf_counter()
        bare_trainer(steps, [Every(every, probe, steps, name)]).fit(model, data)
        seconds = time.perf_counter() - start
        per_seed = plain_statistics(model, data, members, seed)
        recipes[name] = {"per_seed": per_seed, "curve": curve, "seconds": seconds}
    return {"members": members, "steps": steps, "every": every, "batch_size": batch_size, "recipes": recipes}


def finite_mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


def plot(result: dict, path: Path) -> None:
    plt = pyplot()
    recipes = result["recipes"]
    figure, axes = plt.subplots(
        2, len(recipes) + 1, figsize=(15, 6.6), gridspec_kw={"width_ratios": [3] * len(recipes) + [2.4]}
    )
    colours = plt.get_cmap("tab10")
    for column, (name, recipe) in enumerate(recipes.items()):
        iterations = [row["iteration"] for row in recipe["curve"]]
        for role, axis in (("d_loss", axes[0, column]), ("g_loss", axes[1, column])):
            values = np.array([row[role] for row in recipe["curve"]])
            for member in range(values.shape[1]):
                axis.plot(iterations, values[:, member], color=colours(member), linewidth=0.7, alpha=0.8)
            axis.set(xlabel="iteration", ylabel=f"{'D' if role == 'd_loss' else 'G'} loss per seed")
            axis.axhline(2 * math.log(2) if role == "d_loss" else math.log(2), color="black", linestyle="--", lw=0.8)
            axis.grid(alpha=0.3)
        axes[0, column].set_title(f"{name}: D loss, {values.shape[1]} seeds (-- = 2 log 2)", fontsize=9)
        axes[1, column].set_title(f"{name}: G loss (-- = log 2)", fontsize=9)
        axes[0, column].set_ylim(0, 3)
        axes[1, column].set_ylim(0, 6)
    names = list(recipes)
    for row, (key, label) in enumerate(
        (("modes_covered", "modes covered / 8"), ("high_quality_fraction", "high quality %"))
    ):
        axis = axes[row, -1]
        for column, name in enumerate(names):
            values = [s[key] * (100 if key == "high_quality_fraction" else 1) for s in recipes[name]["per_seed"]]
            jitter = np.linspace(-0.2, 0.2, len(values))
            axis.scatter(column + jitter, values, color=[colours(i) for i in range(len(values))], s=18)
        axis.set_xticks(range(len(names)), [n.replace(" + ", "\n+ ") for n in names], fontsize=7)
        axis.set(ylabel=label, title=f"final {label} per seed")
        axis.title.set_fontsize(9)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)


def table(result: dict) -> str:
    lines = [
        "| recipe | modes covered per seed (of 8) | mean ± sd | high quality % (mean, min-max) "
        "| reverse KL (finite seeds) | D loss, sd over seeds and last 10 % | train time |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, recipe in result["recipes"].items():
        seeds = recipe["per_seed"]
        modes = [s["modes_covered"] for s in seeds]
        hq = [100 * s["high_quality_fraction"] for s in seeds]
        kl = [s["reverse_kl"] for s in seeds]
        finite = sum(math.isfinite(v) for v in kl)
        tail = recipe["curve"][-max(1, len(recipe["curve"]) // 10) :]
        d_spread = float(np.std([row["d_loss"] for row in tail]))
        lines.append(
            f"| {name} | {' '.join(str(int(m)) for m in modes)} | {np.mean(modes):.1f} ± {np.std(modes):.1f} "
            f"| {np.mean(hq):.1f} ({min(hq):.1f}-{max(hq):.1f}) | {finite_mean(kl):.2f} ({finite} of {len(kl)}) "
            f"| {d_spread:.3f} | {recipe['seconds']:.0f} s |"
        )
    return "\n".join(lines)
