"""The GAN papers' core claims, measured on this repo's networks (issue 11, section 5).

``vanishing``: Goodfellow et al. 2014 (Sec. 3) and Arjovsky & Bottou 2017 (Sec. 2.2, Fig. 2):
with the minimax loss log(1 - D(G(z))), G's gradient vanishes as D becomes confident; the
non-saturating loss -log D(G(z)) keeps it. The DCGAN networks of configs/dcgan.yaml on
MNIST-5k; G is frozen (at initialisation and after a short DCGAN training), a fresh D is
trained against it alone, and every few D steps ‖∇_θG‖ is measured under both losses on the
same noise batch, beside D's accuracy and mean D(G(z)).

``equilibrium``: Goodfellow et al. 2014, Prop. 1 and Thm. 1: at the game's optimum
p_g = p_data and D*(x) = ½ everywhere. configs/gan_2d.yaml (no R1), the same with R1
(γ = 1) at a constant learning rate, and configs/gan_2d_r1.yaml (R1 + LR decay) on the
ring of 8 Gaussians; mean sigmoid D on data and on G's samples every few iterations, and
D(x) over the plane at the end.

``instability``: one config, 10 seeds, trained side by side (benchmarks/toy2d.py's
seed-batched networks): the plain non-saturating GAN against stabilised recipes (R1, LR
decay, EMA of G, and TTUR). Per-seed final modes / high-quality % / reverse KL and every
seed's loss curves.

``critic_loss``: Arjovsky et al. 2017 (WGAN, Sec. 4.2, Fig. 3-4): the critic's loss, an
estimate of the Wasserstein distance, tracks sample quality; the standard GAN's D loss
does not. configs/wgan.yaml and configs/dcgan.yaml (plus the same val/fid metric) through
the CLI with a CSV logger; −(critic loss) and the NS D loss against val/fid.

    python benchmarks/fundamentals.py vanishing       # ~1-2 min on 2 shared CPU cores
    python benchmarks/fundamentals.py equilibrium     # ~3 min
    python benchmarks/fundamentals.py instability     # ~6 min
    python benchmarks/fundamentals.py critic_loss     # ~25 min (two 1,500-iteration MNIST runs)
    python benchmarks/fundamentals.py all --quick     # every experiment, small: a smoke run

Each writes benchmarks/results/fundamentals_<experiment>.json (``--output``: that file for
one experiment, a folder for ``all``) and its figure under docs/images/ (``--images``).
:func:`report` turns the results into the "GAN fundamentals" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gan_lightning.data import MNIST5kDataModule
from gan_lightning.data.toy2d import sample_mixture
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import MinimaxLoss, NonSaturatingLoss
from gan_lightning.regularizers import R1Penalty
from gan_lightning.tasks import GAN

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmarks.toy2d's seed-batched networks, when run as a script

from benchmarks.toy2d import small_trainer  # noqa: E402  (after the path above)

FIGURES = {
    "vanishing": "vanishing_gradients.png",
    "equilibrium": "equilibrium.png",
    "instability": "instability.png",
    "critic_loss": "critic_loss.png",
}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, path: Path) -> None:
    """A 256-colour PNG: the heat maps would otherwise make files of 200+ KB for the docs."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    figure.savefig(buffer, dpi=90)
    pyplot().close(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(buffer).convert("RGB").quantize(colors=256).save(path, optimize=True)


def quiet_lightning() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("lightning.fabric").setLevel(logging.ERROR)


class Every(pl.Callback):
    """Calls ``probe(module, iteration)`` every ``every`` iterations, under a tqdm bar."""

    def __init__(self, every: int, probe: Callable[[GAN, int], None], total: int, description: str) -> None:
        self.every, self.probe = every, probe
        self.bar = tqdm(total=total, desc=description, unit="it", leave=False)

    def on_train_batch_end(self, trainer: pl.Trainer, module: GAN, outputs, batch, batch_idx: int) -> None:
        iteration = trainer.global_step
        self.bar.update(1)
        if iteration % self.every == 0 or iteration == trainer.max_steps:
            with torch.no_grad():
                self.probe(module, iteration)

    def on_train_end(self, trainer: pl.Trainer, module: GAN) -> None:
        self.bar.close()


# ----------------------------------------------------------------------------- vanishing
def real_batches(batch_size: int, seed: int):
    data = MNIST5kDataModule(batch_size=batch_size, seed=seed)
    data.setup()
    images = data.train_set.tensors[0]
    generator = torch.Generator().manual_seed(seed)
    while True:
        yield images[torch.randint(len(images), (batch_size,), generator=generator)]


def generator_gradient_norm(generator: nn.Module, discriminator: nn.Module, loss, latent: Tensor) -> float:
    """‖∇_θG loss(D(G(z)))‖ over all of G's parameters, D fixed."""
    generator.zero_grad(set_to_none=True)
    loss.generator_loss(discriminator(generator(latent)).flatten()).backward()
    squares = [p.grad.pow(2).sum() for p in generator.parameters() if p.grad is not None]
    return torch.stack(squares).sum().sqrt().item()


def pretrain_generator(generator: nn.Module, steps: int, batches, latent_dim: int, seed: int) -> None:
    """A short DCGAN run (non-saturating loss) so the frozen G also makes digit-like images."""
    torch.manual_seed(seed)
    discriminator = DCGANDiscriminator(base_width=32)
    objective = NonSaturatingLoss()
    g_opt = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    for _ in tqdm(range(steps), desc="pretrain G", leave=False):
        real = next(batches)
        fake = generator(torch.randn(len(real), latent_dim))
        d_loss = objective.discriminator_loss(discriminator(real).flatten(), discriminator(fake.detach()).flatten())
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        g_loss = objective.generator_loss(discriminator(fake).flatten())
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()


def vanishing(quick: bool, seed: int = 0, d_lr: float = 1e-3) -> dict:
    latent_dim, batch_size = 64, 64
    pretrain_steps = (0, 60) if quick else (0, 300)
    d_steps = 200 if quick else 2000
    every = max(1, d_steps // 40)
    curves = {}
    for steps in pretrain_steps:
        torch.manual_seed(seed)
        batches = real_batches(batch_size, seed)
        generator = DCGANGenerator(latent_dim=latent_dim, base_width=32)
        pretrain_generator(generator, steps, batches, latent_dim, seed)
        generator.eval().requires_grad_(True)
        discriminator = DCGANDiscriminator(base_width=32)
        optimizer = torch.optim.Adam(discriminator.parameters(), lr=d_lr, betas=(0.5, 0.999))
        probe = torch.randn(256, latent_dim, generator=torch.Generator().manual_seed(seed + 1))
        rows = []
        for step in tqdm(range(d_steps + 1), desc=f"train D against G@{steps}", leave=False):
            if step % every == 0:
                discriminator.eval()
                with torch.no_grad():
                    real = next(batches)
                    accuracy = (
                        (discriminator(real) > 0).float().mean() + (discriminator(generator(probe)) < 0).float().mean()
                    ) / 2
                    fake_probability = torch.sigmoid(discriminator(generator(probe))).mean()
                rows.append(
                    {
                        "d_step": step,
                        "d_accuracy": accuracy.item(),
                        "d_of_fake": fake_probability.item(),
                        "grad_minimax": generator_gradient_norm(generator, discriminator, MinimaxLoss(), probe),
                        "grad_non_saturating": generator_gradient_norm(
                            generator, discriminator, NonSaturatingLoss(), probe
                        ),
                    }
                )
                discriminator.train()
            real = next(batches)
            with torch.no_grad():
                fake = generator(torch.randn(batch_size, latent_dim))
            loss = NonSaturatingLoss().discriminator_loss(discriminator(real).flatten(), discriminator(fake).flatten())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        curves[f"G after {steps} DCGAN iterations"] = rows
    return {"pretrain_steps": list(pretrain_steps), "d_steps": d_steps, "d_lr": d_lr, "seed": seed, "curves": curves}


def vanishing_ratio(rows: list[dict]) -> float:
    """‖∇G‖ NS / minimax, median over the last half of D's training (D confident)."""
    tail = rows[len(rows) // 2 :]
    return float(np.median([row["grad_non_saturating"] / row["grad_minimax"] for row in tail]))


def plot_vanishing(result: dict, path: Path) -> None:
    plt = pyplot()
    figure, axes = plt.subplots(1, 3, figsize=(13, 3.7))
    colours = ("tab:blue", "tab:orange", "tab:green")
    for (name, rows), colour in zip(result["curves"].items(), colours, strict=False):
        steps = [row["d_step"] for row in rows]
        axes[0].semilogy(steps, [row["grad_non_saturating"] for row in rows], color=colour, label=f"NS, {name}")
        axes[0].semilogy(
            steps, [row["grad_minimax"] for row in rows], color=colour, linestyle=":", label=f"minimax, {name}"
        )
        axes[1].plot(steps, [row["d_accuracy"] for row in rows], color=colour, label=f"accuracy, {name}")
        axes[1].plot(steps, [row["d_of_fake"] for row in rows], color=colour, linestyle="--", label="mean D(G(z))")
        confident = [row for row in rows if row["d_step"] > 0]
        axes[2].scatter(
            [row["d_of_fake"] for row in confident],
            [row["grad_non_saturating"] / row["grad_minimax"] for row in confident],
            color=colour,
            s=12,
            label=name,
        )
    d = np.linspace(0.02, 0.5, 100)
    axes[2].semilogy(d, (1 - d) / d, color="grey", linewidth=1, label="(1 − D)/D: the two losses' weights")
    axes[0].set(xlabel="D updates (G frozen)", ylabel="‖∇θG‖", title="G's gradient: NS (—) vs minimax (···)")
    axes[1].set(xlabel="D updates (G frozen)", title="D's accuracy (—) and mean D(G(z)) (--)", ylim=(0, 1.02))
    axes[2].set(
        xlabel="mean D(G(z)) on the probe batch",
        ylabel="‖∇G‖ NS / ‖∇G‖ minimax",
        title="the ratio grows as D rejects the fakes",
    )
    for axis in axes:
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    save(figure, path)


def report_vanishing(result: dict) -> str:
    lines = [
        "| frozen G | D accuracy (start → end) | mean D(G(z)) at end | ‖∇G‖ minimax (end) | ‖∇G‖ NS (end) "
        "| NS / minimax (median, last half) |",
        "|---|---|---|---|---|---|",
    ]
    for name, rows in result["curves"].items():
        first, last = rows[0], rows[-1]
        lines.append(
            f"| {name} | {first['d_accuracy']:.2f} → {last['d_accuracy']:.2f} | {last['d_of_fake']:.3f} "
            f"| {last['grad_minimax']:.3g} | {last['grad_non_saturating']:.3g} | **{vanishing_ratio(rows):.1f}×** |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- equilibrium
EQUILIBRIUM_RUNS = {
    "no R1 (gan_2d.yaml)": ("gan_2d.yaml", []),
    "R1, constant lr": (
        "gan_2d_r1.yaml",
        ["--model.init_args.generator_scheduler=null", "--model.init_args.discriminator_scheduler=null"],
    ),
    "R1 + lr decay (gan_2d_r1.yaml)": ("gan_2d_r1.yaml", []),
}


def model_and_data(config: str, overrides: list[str], max_steps: int) -> tuple[GAN, pl.LightningDataModule]:
    """The model and data exactly as ``configs/<config>`` builds them (through the CLI's parser)."""
    from gan_lightning.cli import GANLightningCLI

    cli = GANLightningCLI(
        args=[
            "--config",
            str(ROOT / "configs" / config),
            f"--trainer.max_steps={max_steps}",
            "--trainer.logger=false",
            "--trainer.enable_progress_bar=false",
            *overrides,
        ],
        run=False,
    )
    return cli.model, cli.datamodule


def plane_grid(resolution: int, extent: float) -> Tensor:
    axis = torch.linspace(-extent, extent, resolution)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def equilibrium(quick: bool, seed: int = 0) -> dict:
    steps, every, probe_size = (300, 10, 512) if quick else (2000, 10, 2048)
    resolution, extent = 101, 1.5
    runs = {}
    for name, (config, overrides) in EQUILIBRIUM_RUNS.items():
        pl.seed_everything(seed, verbose=False)
        model, data = model_and_data(config, overrides, steps)
        data.setup("fit")
        real = data.train_set.tensors[0][:probe_size]
        latent_stream = torch.Generator().manual_seed(seed + 1)
        rows = []

        def probe(module: GAN, iteration: int, rows=rows, real=real, latent_stream=latent_stream) -> None:
            fake = module.sample(probe_size, use_ema=False, generator=latent_stream)  # the G that D plays against
            rows.append(
                {
                    "iteration": iteration,
                    "D_real": torch.sigmoid(module.discriminator(real)).mean().item(),
                    "D_fake": torch.sigmoid(module.discriminator(fake)).mean().item(),
                }
            )

        small_trainer(steps, [Every(every, probe, steps, name)]).fit(model, data)
        with torch.no_grad():
            heat = torch.sigmoid(model.discriminator(plane_grid(resolution, extent))).view(resolution, resolution)
            samples = model.sample(500, use_ema=False, generator=torch.Generator().manual_seed(seed + 2))
        runs[name] = {
            "config": config,
            "overrides": overrides,
            "curve": rows,
            "heat": [[round(v, 4) for v in row] for row in heat.tolist()],
            "samples": [[round(v, 4) for v in point] for point in samples.tolist()],
            "distance_from_half": distance_from_half(rows),
        }
    return {"steps": steps, "every": every, "probe_size": probe_size, "extent": extent, "seed": seed, "runs": runs}


def distance_from_half(rows: list[dict], tail: float = 0.1) -> dict[str, float]:
    """Mean |D − ½| on data and on samples over the last ``tail`` of training, and the
    standard deviation of D on data there (how much it still swings)."""
    last = rows[-max(1, int(len(rows) * tail)) :]
    real = np.array([row["D_real"] for row in last])
    fake = np.array([row["D_fake"] for row in last])
    return {
        "real": float(np.abs(real - 0.5).mean()),
        "fake": float(np.abs(fake - 0.5).mean()),
        "real_std": float(real.std()),
        "gap": float((real - fake).mean()),
    }


def plot_equilibrium(result: dict, path: Path) -> None:
    plt = pyplot()
    runs = result["runs"]
    figure = plt.figure(figsize=(13, 7.6), layout="constrained")
    grid = figure.add_gridspec(2, len(runs))
    extent = result["extent"]
    modes = torch.tensor([[math.cos(2 * math.pi * i / 8), math.sin(2 * math.pi * i / 8)] for i in range(8)])
    for column, (name, run) in enumerate(runs.items()):
        curve = run["curve"]
        iterations = [row["iteration"] for row in curve]
        top = figure.add_subplot(grid[0, column])
        top.plot(iterations, [row["D_real"] for row in curve], color="tab:blue", linewidth=0.9, label="on data")
        top.plot(iterations, [row["D_fake"] for row in curve], color="tab:red", linewidth=0.9, label="on G's samples")
        top.axhline(0.5, color="black", linewidth=0.8, linestyle="--")
        stats = run["distance_from_half"]
        values = [row[key] for row in curve for key in ("D_real", "D_fake")]
        top.set(
            ylim=(min(0.3, min(values) - 0.05), max(0.7, max(values) + 0.05)),
            xlabel="iteration",
            title=f"{name}\nlast 10 %: |D(x) − ½| = {stats['real']:.3f}, |D(G(z)) − ½| = {stats['fake']:.3f}",
        )
        top.title.set_fontsize(9)
        if column == 0:
            top.set_ylabel("mean sigmoid D")
            top.legend(fontsize=8, loc="upper left")
        bottom = figure.add_subplot(grid[1, column])
        image = bottom.imshow(
            np.array(run["heat"]),
            origin="lower",
            extent=(-extent, extent, -extent, extent),
            vmin=0.25,
            vmax=0.75,
            cmap="RdBu_r",
        )
        samples = np.array(run["samples"])
        bottom.scatter(samples[:, 0], samples[:, 1], s=2, color="black", alpha=0.5, label="G's samples")
        bottom.scatter(modes[:, 0], modes[:, 1], marker="x", color="lime", s=40, label="data modes")
        bottom.set(
            title=f"D(x) over the plane at iteration {result['steps']}",
            xlim=(-extent, extent),
            ylim=(-extent, extent),
            xticks=[-1, 0, 1],
            yticks=[-1, 0, 1],
        )
        bottom.title.set_fontsize(9)
        if column == 0:
            bottom.legend(fontsize=7, loc="lower left")
    figure.colorbar(image, ax=figure.axes[1::2], shrink=0.8, extend="both", label="sigmoid D(x)")
    save(figure, path)


def report_equilibrium(result: dict) -> str:
    lines = [
        "| run | mean \\|D(x) − ½\\| on data | mean \\|D(G(z)) − ½\\| on samples | std of D(x) | mean D(x) − D(G(z)) |",
        "|---|---|---|---|---|",
    ]
    for name, run in result["runs"].items():
        s = run["distance_from_half"]
        lines.append(f"| {name} | {s['real']:.4f} | {s['fake']:.4f} | {s['real_std']:.4f} | {s['gap']:.4f} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- instability
def instability_recipes(members: int, steps: int) -> dict[str, Callable[[], GAN]]:
    """The plain GAN of configs/gan_2d.yaml (raw G evaluated), and the stabilised recipes:
    toy2d.py's ``gan_r1`` (R1 γ = 1, both lrs decaying to 0, EMA of G) and the same with
    TTUR (Heusel et al. 2017: D's lr twice G's; G keeps the baseline's)."""
    from benchmarks.toy2d import SeedBatchedDiscriminator, SeedBatchedGenerator, configurations

    hidden, latent_dim, lr = 128, 8, 1e-3
    decay = partial(torch.optim.lr_scheduler.LinearLR, start_factor=1.0, end_factor=0.0, total_iters=steps)

    def ttur() -> GAN:
        return GAN(
            SeedBatchedGenerator(members, latent_dim, [hidden] * 3),
            SeedBatchedDiscriminator(members, 2, [hidden] * 2),
            NonSaturatingLoss(),
            regularizers=[R1Penalty(1.0)],
            generator_optimizer=partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.999)),
            discriminator_optimizer=partial(torch.optim.Adam, lr=2 * lr, betas=(0.5, 0.999)),
            generator_scheduler=decay,
            discriminator_scheduler=decay,
            ema_kimg=10.0,
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


def instability(quick: bool, seed: int = 0) -> dict:
    from benchmarks.toy2d import SeedBatchedData, plain_statistics

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
        small_trainer(steps, [Every(every, probe, steps, name)]).fit(model, data)
        seconds = time.perf_counter() - start
        per_seed = plain_statistics(model, data, members, seed)
        recipes[name] = {"per_seed": per_seed, "curve": curve, "seconds": seconds}
    return {"members": members, "steps": steps, "every": every, "batch_size": batch_size, "recipes": recipes}


def finite_mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else float("inf")


def plot_instability(result: dict, path: Path) -> None:
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
    save(figure, path)


def report_instability(result: dict) -> str:
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


# ----------------------------------------------------------------------------- critic_loss
CRITIC_RUNS = {
    "WGAN-GP (wgan.yaml)": ("wgan.yaml", []),
    "NS-GAN (dcgan.yaml)": (
        "dcgan.yaml",
        [
            "--model.init_args.metrics=gan_lightning.metrics.GenerativeMetrics",
            "--model.init_args.metrics.init_args.features=mnist",
            "--model.init_args.metrics.init_args.num_samples=1000",
        ],
    ),
}


def fit_with_csv(config: str, overrides: list[str], steps: int, val_every: int, root: Path) -> list[dict]:
    """``lightning fit --config configs/<config>`` with a CSV logger, one thread: its metrics.csv rows."""
    name = Path(config).stem
    command = [
        sys.executable,
        "-m",
        "gan_lightning",
        "fit",
        "--config",
        str(ROOT / "configs" / config),
        *overrides,
        f"--trainer.max_steps={steps}",
        f"--trainer.val_check_interval={val_every}",
        "--trainer.log_every_n_steps=10",
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
        f"--trainer.logger.init_args.save_dir={root}",
        f"--trainer.logger.init_args.name={name}",
        f"--trainer.default_root_dir={root}",
        f"--checkpoint.every_n_train_steps={steps}",
    ]
    environment = os.environ | {"OMP_NUM_THREADS": "1", "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    subprocess.run(command, check=True, env=environment, cwd=root)
    (run,) = (root / name).iterdir()
    return list(csv.DictReader((run / "metrics.csv").open()))


def series(rows: list[dict], key: str) -> list[tuple[int, float]]:
    return [(int(row["step"]), float(row[key])) for row in rows if row.get(key)]


def ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)


def correlations(x: list[float], y: list[float]) -> dict[str, float]:
    x_, y_ = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return {
        "pearson": float(np.corrcoef(x_, y_)[0, 1]),
        "spearman": float(np.corrcoef(ranks(x_), ranks(y_))[0, 1]),
    }


def critic_loss(quick: bool) -> dict:
    steps, val_every = (200, 50) if quick else (1500, 100)
    runs = {}
    for name, (config, overrides) in tqdm(CRITIC_RUNS.items(), desc="critic_loss runs"):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            rows = fit_with_csv(config, overrides, steps, val_every, Path(folder))
            seconds = time.perf_counter() - start
        train_loss = series(rows, "train/d_loss")
        fid = series(rows, "val/fid")
        val_loss = dict(series(rows, "val/d_loss"))
        # The training loss is one batch's: its median over the window since the previous validation.
        windowed = [float(np.median([v for s, v in train_loss if step - val_every < s <= step])) for step, _ in fid]
        points = [
            {"step": step, "fid": value, "neg_train_d_loss": -w, "neg_val_d_loss": -val_loss[step]}
            for (step, value), w in zip(fid, windowed, strict=True)
        ]
        runs[name] = {
            "config": config,
            "seconds": seconds,
            "train_d_loss": train_loss,
            "points": points,
            "train_vs_fid": correlations([p["neg_train_d_loss"] for p in points], [p["fid"] for p in points]),
            "val_vs_fid": correlations([p["neg_val_d_loss"] for p in points], [p["fid"] for p in points]),
        }
    return {"steps": steps, "val_every": val_every, "threads": 1, "runs": runs}


def plot_critic_loss(result: dict, path: Path) -> None:
    plt = pyplot()
    runs = result["runs"]
    figure, axes = plt.subplots(2, len(runs), figsize=(12, 7))
    for column, (name, run) in enumerate(runs.items()):
        top = axes[0, column]
        steps, losses = zip(*run["train_d_loss"], strict=True)
        top.plot(steps, -np.array(losses), color="tab:blue", alpha=0.25, linewidth=0.7, label="−D loss (one batch)")
        points = run["points"]
        fid_steps = [p["step"] for p in points]
        top.plot(
            fid_steps, [p["neg_train_d_loss"] for p in points], color="tab:blue", marker=".", label="−D loss (median)"
        )
        top.plot(
            fid_steps, [p["neg_val_d_loss"] for p in points], color="tab:cyan", marker=".", label="−D loss (held out)"
        )
        top.set(xlabel="iteration", ylabel="−(D loss)", title=name)
        top.legend(fontsize=7, loc="upper right")
        right = top.twinx()
        right.plot(fid_steps, [p["fid"] for p in points], color="tab:red", marker="o", markersize=3, label="val/fid")
        right.set_ylabel("val/fid (MNIST features)", color="tab:red")
        bottom = axes[1, column]
        scatter = bottom.scatter(
            [p["neg_train_d_loss"] for p in points], [p["fid"] for p in points], c=fid_steps, cmap="viridis", s=20
        )
        r = run["train_vs_fid"]
        bottom.set(
            xlabel="−(D loss), median since the previous validation",
            ylabel="val/fid",
            title=f"Pearson {r['pearson']:.2f}, Spearman {r['spearman']:.2f}",
        )
        bottom.grid(alpha=0.3)
        figure.colorbar(scatter, ax=bottom, label="iteration")
    figure.tight_layout()
    save(figure, path)


def late_correlation(points: list[dict]) -> dict[str, float]:
    """corr(−D loss, FID) over the last two thirds of the validations: past the first
    few hundred iterations, where every quantity of any run moves with FID."""
    late = points[len(points) // 3 :]
    return correlations([p["neg_train_d_loss"] for p in late], [p["fid"] for p in late])


def report_critic_loss(result: dict) -> str:
    lines = [
        "| run | FID first → last | −D loss first → last (median) | corr(−D loss, FID) Pearson / Spearman "
        "| same, last ⅔ of the run | same, held-out D loss | wall time |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in result["runs"].items():
        points = run["points"]
        t, v, late = run["train_vs_fid"], run["val_vs_fid"], late_correlation(points)
        lines.append(
            f"| {name} | {points[0]['fid']:.1f} → {points[-1]['fid']:.1f} "
            f"| {points[0]['neg_train_d_loss']:.3f} → {points[-1]['neg_train_d_loss']:.3f} "
            f"| **{t['pearson']:.2f} / {t['spearman']:.2f}** | **{late['pearson']:.2f} / {late['spearman']:.2f}** "
            f"| {v['pearson']:.2f} / {v['spearman']:.2f} | {run['seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- runner
EXPERIMENTS: dict[str, tuple[Callable[[bool], dict], Callable[[dict, Path], None], Callable[[dict], str]]] = {
    "vanishing": (vanishing, plot_vanishing, report_vanishing),
    "equilibrium": (equilibrium, plot_equilibrium, report_equilibrium),
    "instability": (instability, plot_instability, report_instability),
    "critic_loss": (critic_loss, plot_critic_loss, report_critic_loss),
}

TITLES = {
    "vanishing": "Vanishing gradients of the minimax loss (Goodfellow et al. 2014, Sec. 3)",
    "equilibrium": "The equilibrium: D(x) = ½ (Goodfellow et al. 2014, Prop. 1)",
    "instability": "Instability across seeds, and what stabilises it",
    "critic_loss": "WGAN: the critic's loss tracks sample quality (Arjovsky et al. 2017, Fig. 3)",
}


def report(results: dict[str, dict]) -> str:
    """Markdown for BENCHMARKS.md's "GAN fundamentals" section: per experiment present in
    ``results`` (name → its results JSON, or one experiment's JSON, which names itself), a
    table of the measured numbers and its figure."""
    if "experiment" in results:
        results = {results["experiment"]: results}
    parts = []
    for name, (_, _, table) in EXPERIMENTS.items():
        if name not in results:
            continue
        result = results[name]
        cost = f"{result.get('seconds', float('nan')):.0f} s"
        load = result.get("loadavg")
        if load:
            cost += f" at load average {load[0]:.1f}"
        quick = " **(quick run: smaller and shorter, not the reported numbers)**" if result.get("quick") else ""
        parts.append(
            f"### {TITLES[name]}\n\n"
            f"`python benchmarks/fundamentals.py {name}` ({cost}){quick}\n\n"
            f"{table(result)}\n\n"
            f"![{name}](docs/images/{figure_name(name, bool(result.get('quick')))})"
        )
    return "\n\n".join(parts)


def figure_name(name: str, quick: bool) -> str:
    """The figure's file name; a quick run writes its own, never over the reported figure."""
    return FIGURES[name].replace(".png", "_quick.png") if quick else FIGURES[name]


def run_experiment(name: str, quick: bool, output: Path, images: Path) -> dict:
    experiment, plot, table = EXPERIMENTS[name]
    start = time.time()
    result = experiment(quick)
    result |= {
        "experiment": name,
        "quick": quick,
        "seconds": round(time.time() - start, 1),
        "loadavg": list(os.getloadavg()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    figure = images / figure_name(name, quick)
    plot(result, figure)
    print(f"\n{TITLES[name]}\n{table(result)}\n-> {output}, {figure}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter: a smoke run, marked quick")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="results JSON (one experiment) or folder (all); default benchmarks/results/fundamentals_<name>.json",
    )
    parser.add_argument("--images", type=Path, default=IMAGES, help="folder for the figures (default docs/images)")
    parser.add_argument("--plot-only", action="store_true", help="redraw the figures from saved results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    quiet_lightning()
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        default = f"fundamentals_{name}.json"
        if args.output is None:
            output = RESULTS / default
        else:
            output = args.output / default if args.experiment == "all" else args.output
        if args.plot_only:
            result = json.loads(output.read_text())
            EXPERIMENTS[name][1](result, args.images / figure_name(name, bool(result.get("quick"))))
            continue
        run_experiment(name, args.quick, output, args.images)


if __name__ == "__main__":
    main()
