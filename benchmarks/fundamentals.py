"""The GAN papers' core claims, measured on this repo's networks (issue 11, section 5).

``vanishing``: Goodfellow et al. 2014 (Sec. 3) and Arjovsky & Bottou 2017 (Sec. 2.2, Fig. 2):
with the minimax loss log(1 - D(G(z))), G's gradient vanishes as D becomes confident; the
non-saturating loss -log D(G(z)) keeps it. Setup: the DCGAN networks of configs/dcgan.yaml
on MNIST-5k; G is frozen (at initialisation and after a short DCGAN training), a fresh D is
trained against it alone, and every few D steps ‖∇_θG‖ is measured under both losses on the
same noise batch, beside D's accuracy on real vs generated images.

    python benchmarks/fundamentals.py vanishing        # ~1 minute on 2 CPU cores

Writes benchmarks/results/fundamentals_vanishing.json and docs/images/vanishing_gradients.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_lightning.data import MNIST5kDataModule
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.objectives import MinimaxLoss, NonSaturatingLoss

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"


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
    for _ in range(steps):
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


def vanishing(pretrain_steps: tuple[int, ...], d_steps: int, every: int, seed: int, d_lr: float) -> dict:
    latent_dim, batch_size = 64, 64
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
        for step in range(d_steps + 1):
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


def plot_vanishing(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for (name, rows), colour in zip(result["curves"].items(), ("tab:blue", "tab:orange", "tab:green"), strict=False):
        steps = [row["d_step"] for row in rows]
        axes[0].semilogy(steps, [row["grad_minimax"] for row in rows], color=colour, label=f"minimax, {name}")
        axes[0].semilogy(
            steps, [row["grad_non_saturating"] for row in rows], color=colour, linestyle="--", label=f"NS, {name}"
        )
        axes[1].plot(steps, [row["d_accuracy"] for row in rows], color=colour, label=name)
        fake = [row["d_of_fake"] for row in rows]
        axes[2].loglog(fake, [row["grad_minimax"] for row in rows], color=colour, marker=".", label=f"minimax, {name}")
        axes[2].loglog(
            fake, [row["grad_non_saturating"] for row in rows], color=colour, marker=".", linestyle="--", label="NS"
        )
    axes[0].set(xlabel="D updates (G frozen)", ylabel="‖∇G‖", title="G's gradient: minimax (—) vs NS (--)")
    axes[0].legend(fontsize=7)
    axes[1].set(xlabel="D updates (G frozen)", ylabel="D accuracy (real vs fake)", title="D becomes confident")
    axes[1].legend(fontsize=7)
    axes[2].set(xlabel="mean D(G(z))", ylabel="‖∇G‖", title="against D's verdict on fakes")
    axes[2].invert_xaxis()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=["vanishing"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--d-steps", type=int, default=2000)
    parser.add_argument("--d-lr", type=float, default=1e-3, help="the fresh D's Adam lr: high, so it saturates")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.time()
    result = vanishing(
        pretrain_steps=(0, 300), d_steps=args.d_steps, every=max(1, args.d_steps // 40), seed=args.seed, d_lr=args.d_lr
    )
    result["seconds"] = round(time.time() - start, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fundamentals_vanishing.json").write_text(json.dumps(result, indent=1))
    plot_vanishing(result, IMAGES / "vanishing_gradients.png")
    for name, rows in result["curves"].items():
        first, last = rows[0], rows[-1]
        print(
            f"{name}: D accuracy {first['d_accuracy']:.2f} -> {last['d_accuracy']:.2f}; "
            f"‖∇G‖ minimax {first['grad_minimax']:.3g} -> {last['grad_minimax']:.3g}, "
            f"NS {first['grad_non_saturating']:.3g} -> {last['grad_non_saturating']:.3g}"
        )


if __name__ == "__main__":
    main()
