"""Vanishing gradients of the minimax loss: Goodfellow et al. 2014 (Sec. 3) and Arjovsky &
Bottou 2017 (Sec. 2.2, Fig. 2). With the minimax loss log(1 - D(G(z))), G's gradient vanishes
as D becomes confident; the non-saturating loss -log D(G(z)) keeps it.

The DCGAN networks of configs/dcgan.yaml on MNIST-5k; G is frozen (at initialisation and after
a short DCGAN training), a fresh D is trained against it alone, and every few D steps ‖∇_θG‖
is measured under both losses on the same noise batch, beside D's accuracy and mean D(G(z)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from benchmarks.harness import pyplot, save_figure
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import MinimaxLoss, NonSaturatingLoss

TITLE = "Vanishing gradients of the minimax loss (Goodfellow et al. 2014, Sec. 3)"
FIGURE = "vanishing_gradients.png"


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


def measure(quick: bool, seed: int = 0, d_lr: float = 1e-3) -> dict:
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


def plot(result: dict, path: Path) -> None:
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
    save_figure(figure, path)


def table(result: dict) -> str:
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
