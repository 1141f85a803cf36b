"""The equilibrium: Goodfellow et al. 2014, Prop. 1 and Thm. 1: at the game's optimum
p_g = p_data and D*(x) = ½ everywhere.

configs/gan_2d.yaml (no R1), the same with R1 (γ = 1) at a constant learning rate, and
configs/gan_2d_r1.yaml (R1 + LR decay) on the ring of 8 Gaussians; mean sigmoid D on data and
on G's samples every few iterations, and D(x) over the plane at the end.
"""

from __future__ import annotations

import math
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch import Tensor

from benchmarks.harness import CONFIGS, Every, bare_trainer, cli_in_process, pyplot, save_figure
from gan_lightning.tasks import GAN

TITLE = "The equilibrium: D(x) = ½ (Goodfellow et al. 2014, Prop. 1)"
FIGURE = "equilibrium.png"


EQUILIBRIUM_RUNS = {
    "no R1 (gan_2d.yaml)": ("gan_2d.yaml", []),
    "R1, constant lr": (
        "gan_2d_r1.yaml",
        [
            "--model.init_args.optimization.generator.scheduler=null",
            "--model.init_args.optimization.discriminator.scheduler=null",
        ],
    ),
    "R1 + lr decay (gan_2d_r1.yaml)": ("gan_2d_r1.yaml", []),
}


def model_and_data(config: str, overrides: list[str], max_steps: int) -> tuple[GAN, pl.LightningDataModule]:
    """The model and data exactly as ``configs/<config>`` builds them (through the CLI's parser)."""
    cli = cli_in_process(CONFIGS / config, f"--trainer.max_steps={max_steps}", *overrides, progress=False, run=False)
    return cli.model, cli.datamodule


def plane_grid(resolution: int, extent: float) -> Tensor:
    axis = torch.linspace(-extent, extent, resolution)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


def measure(quick: bool, seed: int = 0) -> dict:
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

        bare_trainer(steps, [Every(every, probe, steps, name)]).fit(model, data)
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


def plot(result: dict, path: Path) -> None:
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
    save_figure(figure, path)


def table(result: dict) -> str:
    lines = [
        "| run | mean \\|D(x) − ½\\| on data | mean \\|D(G(z)) − ½\\| on samples | std of D(x) | mean D(x) − D(G(z)) |",
        "|---|---|---|---|---|",
    ]
    for name, run in result["runs"].items():
        s = run["distance_from_half"]
        lines.append(f"| {name} | {s['real']:.4f} | {s['fake']:.4f} | {s['real_std']:.4f} | {s['gap']:.4f} |")
    return "\n".join(lines)
