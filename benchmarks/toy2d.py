"""The 2D mode-collapse benchmark (PacGAN protocol, ../shared/anchors.md) for this repo's GAN.

Ring of 8 and grid of 25 Gaussians; after training, 2,500 samples per seed are scored with
:func:`gan_lightning.metrics.toy2d.mode_statistics` (modes covered, % high quality, reverse
KL) and reported as mean ± standard error over seeds (:func:`benchmarks.harness.mean_and_stderr`).

Every configuration trains through the same ``GAN`` LightningModule and a small Trainer.
To fit 10 seeds into a few minutes on 2 CPU cores, the seeds train *side by side*: the
generator and discriminator are "seed-batched" MLPs, S independent networks evaluated with
one batched matmul, each seeing only its own slice of every batch. The losses are means
over the slices, so each member's gradient is its own loss's gradient divided by S, which
Adam's scale invariance absorbs: the members are S independent GANs that share only the
Python overhead.

Each trained model is scored several ways from the same weights. Unfiltered: as sampled
from the EMA generator (what PacGAN and VEEGAN publish, so the report puts it first and
alone beside their rows), the raw generator, and the latent truncated (ψ·z). Filtered
through D, from the raw generator D was trained against, each with its acceptance rate and
extra draws: the hard threshold at one or more quantiles of D's real scores
(:mod:`gan_lightning.sampling.rejection`) and Discriminator Rejection Sampling
(:mod:`gan_lightning.sampling.drs`) with D as trained and with a copy of D fine-tuned
``--drs-fine-tune`` logistic steps. :func:`report` turns saved results into the Markdown
tables of BENCHMARKS.md (a row per config × layout, a column per variant), with a scatter
plot per config × layout under docs/images/.

    python -m benchmarks.toy2d --configs toy2d_best --rejection-quantile 0.01 --out benchmarks/results/toy2d_best.json
    python -m benchmarks.toy2d --quick --configs gan_r1 gan_r1_ema100   # 3 seeds, a fifth of the steps
    python -m benchmarks.toy2d --table benchmarks/results/toy2d_best.json   # re-print the report

``--seeds N`` is a count here: the N seeds train side by side as one seed-batched network
from the random state of ``--seed``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import lightning.pytorch as pl
import torch
from torch import Tensor, nn

from benchmarks.harness import (
    IMAGES,
    add_common_flags,
    add_steps,
    bare_trainer,
    finish,
    format_mean_se,
    mean_and_stderr,
    parser,
    quiet_lightning,
    write_results,
)
from gan_lightning.callbacks import RegularizerAnnealing
from gan_lightning.data.toy2d import GaussianMixture2DDataModule, sample_mixture
from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.networks.pacgan import PackedDiscriminator
from gan_lightning.objectives import NonSaturatingLoss, WassersteinLoss
from gan_lightning.objectives.base import ProbabilisticObjective
from gan_lightning.regularizers import GradientPenalty, R1Penalty
from gan_lightning.sampling import fine_tune
from gan_lightning.sampling.drs import drs_sample
from gan_lightning.sampling.rejection import RejectionError, RejectionSamples, real_score_threshold, rejection_sample
from gan_lightning.tasks import GAN
from gan_lightning.training import Optimization, RoleOptimization, looking_only

EVAL_SAMPLES = 2_500
PLOTTED = 1_000  # seed 0's points kept in the JSON for the scatter plots
DEFAULT_STEPS = {"ring": 5_000, "grid": 10_000}
#: What a config trains with beyond its module, as its YAML sets it: the per-seed batch size
#: and callbacks (``toy2d_best`` is configs/toy2d_best.yaml).
TRAINING: dict[str, dict] = {
    "toy2d_best": {"batch_size": 512, "callbacks": lambda: [RegularizerAnnealing(final_factor=1e-5, start=0.5)]},
}


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

    ``ema_kimg`` is the half-life *per seed* (as in a single-seed ``lightning fit`` with the
    same batch size): the seed-batched network sees ``members`` times the images per step.

    ``gan_r1`` is ``gan`` plus R1 (γ = 1, Mescheder et al. 2018) and learning rates that decay
    linearly to zero over the run, so the generator settles on the modes instead of hopping
    between them or jittering around one. The ``gan_r1_*`` variants change one thing each:
    the EMA half-life, the R1 weight, or packing (PacGAN2 + R1); ``wgan_gp_decay`` is WGAN-GP
    with the same decay."""
    adam = partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.999))
    decay = partial(torch.optim.lr_scheduler.LinearLR, start_factor=1.0, end_factor=0.0, total_iters=steps)

    def generator() -> nn.Module:
        return SeedBatchedGenerator(members, latent_dim, [hidden] * 3)

    def discriminator(pack: int = 1) -> nn.Module:
        single = SeedBatchedDiscriminator(members, 2 * pack, [hidden] * 2)
        return single if pack == 1 else PackedDiscriminator(single, pack)

    def build(
        discriminator: nn.Module,
        objective=None,
        regularizers=None,
        n_critic=1,
        optimizer=adam,
        schedule=None,
        ema: float | None = ema_kimg,
    ) -> GAN:
        return GAN(
            generator(),
            discriminator,
            objective or NonSaturatingLoss(),
            regularizers=regularizers,
            n_critic=n_critic,
            optimization=Optimization(
                generator=RoleOptimization(optimizer, schedule),
                discriminator=RoleOptimization(optimizer, schedule),
                ema_kimg=None if ema is None else ema * members,
            ),
        )

    def vanilla() -> GAN:
        return build(discriminator())

    def vanilla_r1(gamma: float = 1.0, pack: int = 1, ema: float | None = ema_kimg) -> GAN:
        return build(discriminator(pack), regularizers=[R1Penalty(gamma)], schedule=decay, ema=ema)

    def pacgan(pack: int) -> GAN:
        return build(discriminator(pack))

    def best() -> GAN:  # + TRAINING["toy2d_best"]: batch 512, R1 annealed to 1e-5·γ over the second half
        return build(discriminator(), regularizers=[R1Penalty(1.0)], n_critic=3, schedule=decay)

    def wgan_gp(schedule=None) -> GAN:
        adam_gp = partial(torch.optim.Adam, lr=lr, betas=(0.5, 0.9))
        return build(discriminator(), WassersteinLoss(), [GradientPenalty(weight=0.1)], 5, adam_gp, schedule)

    return {
        "gan": vanilla,
        "gan_r1": vanilla_r1,
        "toy2d_best": best,
        "gan_r1_ema100": partial(vanilla_r1, ema=100.0),
        "gan_r1_noema": partial(vanilla_r1, ema=None),
        "gan_r1_gamma0.1": partial(vanilla_r1, gamma=0.1),
        "gan_r1_gamma3": partial(vanilla_r1, gamma=3.0),
        "pacgan2_r1": partial(vanilla_r1, pack=2),
        "pacgan2": partial(pacgan, 2),
        "pacgan4": partial(pacgan, 4),
        "wgan_gp": wgan_gp,
        "wgan_gp_decay": partial(wgan_gp, decay),
    }


def member_slice(
    model: GAN, members: int, member: int, num: int, discriminator: nn.Module | None = None, use_ema: bool = True
) -> tuple[Callable, Callable]:
    """``sample(n)`` and ``score(points)`` of one seed of a seed-batched GAN: all members
    run (cheap at this size) and the member's slice is kept. ``score`` is the logit of
    ``discriminator`` (default: the model's) in eval mode, without augmentation; ``sample``
    draws from the EMA generator, or the raw one D was trained against (``use_ema=False``)."""
    discriminator = model.discriminator if discriminator is None else discriminator

    def sample(n: int) -> Tensor:
        return model.sample(n * members, use_ema=use_ema).view(members, n, 2)[member]

    def score(points: Tensor) -> Tensor:
        rows = points.new_zeros(members, len(points), 2)
        rows[member] = points
        with looking_only(discriminator):
            if isinstance(discriminator, PackedDiscriminator):  # a pack of copies scores one point
                rows = rows.repeat_interleave(discriminator.pack, dim=1)
                scores = discriminator.discriminator(rows.reshape(-1, 2 * discriminator.pack))
            else:
                scores = discriminator(rows.reshape(-1, 2))
        return scores.view(members, -1)[member]

    return sample, score


def plain_draws(model: GAN, members: int, seed: int) -> Tensor:
    """Each seed's 2,500 samples as drawn, from the evaluation noise of ``seed``: (members, n, 2)."""
    torch.manual_seed(10_000 + seed)
    return model.sample(EVAL_SAMPLES * members).view(members, EVAL_SAMPLES, 2)


def seed_statistics(draws: Tensor, data: GaussianMixture2DDataModule) -> list[dict]:
    """The protocol's statistics of each seed's samples in ``draws`` (members, n, 2)."""
    return [mode_statistics(samples, data.modes, data.std).as_dict() for samples in draws]


def plain_statistics(model: GAN, data: GaussianMixture2DDataModule, members: int, seed: int) -> list[dict]:
    """Each seed's statistics on 2,500 samples as drawn (the ``plain`` variant of :func:`evaluate`)."""
    return seed_statistics(plain_draws(model, members, seed), data)


def fine_tuned_discriminator(model: GAN, data: GaussianMixture2DDataModule, members: int, seed: int, args) -> nn.Module:
    """A copy of the seed-batched D trained ``args.drs_fine_tune`` more logistic steps on real
    vs raw-G points, G fixed (DRS's "train D to convergence"); every seed's member at once,
    ``args.drs_batch`` real and fake points per seed per step."""
    reals, fakes = torch.Generator().manual_seed(seed), torch.Generator().manual_seed(seed + 1)

    def real(n: int) -> Tensor:
        return sample_mixture(data.modes, data.std, n, reals)[0].to(model.device)

    def fake(n: int) -> Tensor:
        return model.generate(model.sample_latent(n, fakes), use_ema=False)

    return fine_tune(model.discriminator, real, fake, args.drs_fine_tune, args.drs_batch * members, args.drs_lr)


def filtered_draws(
    model: GAN, members: int, name: str, draw: Callable[[Callable, Callable, int], RejectionSamples], **slice_args
) -> tuple[Tensor, list[RejectionSamples]] | None:
    """Each seed's 2,500 samples through a filter ``draw(sample, score, member)`` of the raw
    generator, or None (and a notice) when D rejects nearly everything for some seed."""
    results = []
    for member in range(members):
        sample, score = member_slice(model, members, member, EVAL_SAMPLES, use_ema=False, **slice_args)
        try:
            results.append(draw(sample, score, member))
        except RejectionError as error:  # a barely trained D rejects nearly everything: no row, the rest go on
            print(f"{name}: skipped, seed {member}: {error}", flush=True)
            return None
    return torch.stack([r.samples for r in results]), results


def evaluate(model: GAN, data: GaussianMixture2DDataModule, members: int, seed: int, args) -> dict[str, list]:
    """The protocol's statistics for each seed's generator on 2,500 fresh samples, per
    sampling variant. Unfiltered: ``plain`` (the EMA generator as drawn: what PacGAN and
    VEEGAN publish), ``raw`` (the raw generator as drawn) and ``truncation <ψ>`` (latent
    ψ·z). Filtered, from the raw generator D was trained against, with each seed's
    acceptance rate and extra draws: ``threshold <q>`` (keep what D scores at least as high
    as the real scores' q-quantile) and ``drs`` / ``drs ft<N>`` (Discriminator Rejection
    Sampling, Azadi et al. 2019, with D as trained / a copy fine-tuned N steps). Seed 0's
    first points of each variant are kept for the plots."""
    draws = {"plain": plain_draws(model, members, seed)}
    truncated = model.generate(args.truncation * model.sample_latent(EVAL_SAMPLES * members))
    if model.sampling_generator is not model.generator:
        draws["raw"] = model.sample(EVAL_SAMPLES * members, use_ema=False).view(members, EVAL_SAMPLES, 2)
    draws[f"truncation {args.truncation:g}"] = truncated.view(members, EVAL_SAMPLES, 2)
    filtered: dict[str, list[RejectionSamples]] = {}
    real = sample_mixture(data.modes, data.std, EVAL_SAMPLES, torch.Generator().manual_seed(seed))[0]

    def keep(name: str, result: tuple[Tensor, list[RejectionSamples]] | None) -> None:
        if result is not None:
            draws[name], filtered[name] = result

    for quantile in args.rejection_quantile:

        def threshold(sample, score, member, quantile=quantile):
            return rejection_sample(sample, score, EVAL_SAMPLES, real_score_threshold(score(real), quantile))

        keep(f"threshold {quantile:g}", filtered_draws(model, members, f"threshold {quantile:g}", threshold))

    def drs(sample, score, member):
        return drs_sample(
            sample, score, EVAL_SAMPLES, args.drs_burn_in, args.drs_gamma_quantile, seed=1000 * seed + member
        )

    if args.drs and isinstance(model.objective, ProbabilisticObjective):
        keep("drs", filtered_draws(model, members, "drs", drs))
    elif args.drs:  # a critic's score is no log density ratio; its logistic fine-tuned copy's is
        print(f"drs: D as trained skipped: {type(model.objective).__name__}'s D is not a logistic classifier")
    if args.drs and args.drs_fine_tune:
        tuned = fine_tuned_discriminator(model, data, members, seed, args)
        name = f"drs ft{args.drs_fine_tune}"
        keep(name, filtered_draws(model, members, name, drs, discriminator=tuned))
    variants = {name: seed_statistics(x, data) for name, x in draws.items()}
    for name, results in filtered.items():
        for stats, result in zip(variants[name], results, strict=True):
            stats |= {"acceptance": result.acceptance, "extra_draws": result.extra_draws, "burn_in": result.burn_in}
    points = {name: [[round(float(v), 4) for v in p] for p in x[0, :PLOTTED]] for name, x in draws.items()}
    return {"variants": variants, "points_seed0": points}


def run(name: str, layout: str, args: argparse.Namespace) -> dict:
    steps = args.steps or DEFAULT_STEPS[layout]
    pl.seed_everything(args.seed, verbose=False)
    model = configurations(args.seeds, args.hidden, args.latent_dim, args.lr, steps, args.ema_kimg)[name]()
    training = TRAINING.get(name, {})
    data = SeedBatchedData(layout, args.seeds, training.get("batch_size", args.batch_size))
    trainer = bare_trainer(steps, training.get("callbacks", list)())
    start = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - start
    load = os.getloadavg()[0]
    evaluation = evaluate(model, data, args.seeds, args.seed, args)
    return {
        "name": name,
        "layout": layout,
        "steps": steps,
        "seeds": args.seeds,
        "seconds": seconds,
        "load_average": load,
        "per_seed": evaluation["variants"]["plain"],
        "variants": evaluation["variants"],
        "points_seed0": evaluation["points_seed0"],
        "quick": args.quick,
    }


# ---------------------------------------------------------------------------- reporting
NUM_MODES = {"ring": 8, "grid": 25}
PUBLISHED = """Published, same metric definitions (PacGAN Table 1: 10 seeds, far longer training; VEEGAN
Table 1: 5 runs):

| model | ring modes | ring HQ % | ring rev-KL | grid modes | grid HQ % | grid rev-KL |
|---|---|---|---|---|---|---|
| GAN (PacGAN) | 6.3±0.5 | 98.2±0.2 | 0.45±0.09 | 17.3±0.8 | 94.8±0.7 | 0.70±0.07 |
| PacGAN2 (PacGAN) | 7.9±0.1 | 95.6±2.0 | 0.07±0.03 | 23.8±0.7 | 91.3±0.8 | 0.13±0.04 |
| PacGAN4 (PacGAN) | 7.8±0.1 | 95.9±1.4 | 0.07±0.02 | 24.8±0.2 | 93.6±0.6 | 0.04±0.01 |
| GAN (VEEGAN) | 1 | 99.3 | — | 3.3 | 0.5 | — |
| VEEGAN | 8 | 52.9 | — | 24.6 | 40 | — |"""


def _stat(per_seed: list[dict], key: str, scale: float = 1.0, digits: int = 1) -> str:
    return format_mean_se(mean_and_stderr([scale * s[key] for s in per_seed]), digits, separator="±")


def _kl(per_seed: list[dict]) -> str:
    """Reverse KL is undefined (inf) for a seed with no high-quality sample at all; it is
    averaged over the other seeds and the count is shown."""
    finite = [s for s in per_seed if math.isfinite(s["reverse_kl"])]
    if not finite:
        return "undefined (no high-quality sample)"
    text = _stat(finite, "reverse_kl", digits=3)
    return text if len(finite) == len(per_seed) else f"{text} ({len(finite)} of {len(per_seed)} seeds)"


FILTERS = ("rejection", "threshold", "drs")


def is_filtered(variant: str) -> bool:
    """A variant that keeps only the samples D lets through (it costs extra draws)."""
    return variant.split()[0] in FILTERS


def variant_title(variant: str) -> str:
    """The column header of a sampling variant other than ``plain``."""
    kind, _, value = variant.partition(" ")
    if kind == "raw":
        return "raw G, unfiltered"
    if kind == "truncation":
        return f"latent {value}·z, unfiltered"
    if kind == "rejection":  # results written before the filters sampled the raw G
        return f"**filtered**: D threshold {100 * float(value):g} %, EMA G"
    if kind == "threshold":
        return f"**filtered**: D threshold {100 * float(value):g} %"
    if value:
        return f"**filtered**: DRS, D fine-tuned {value.removeprefix('ft')} steps"
    return "**filtered**: DRS"


def _extra_draws(seed: dict) -> float:
    return seed.get("extra_draws", 1.0 / seed["acceptance"] - 1.0)


def variant_cell(per_seed: list[dict], variant: str) -> str:
    """``modes · HQ % · reverse KL`` of a variant; a filter adds the share of draws it kept
    and the extra generator draws per kept sample."""
    cell = f"{_stat(per_seed, 'modes_covered')} · {_stat(per_seed, 'high_quality_fraction', 100.0)} · {_kl(per_seed)}"
    if not is_filtered(variant):
        return cell
    extra = format_mean_se(mean_and_stderr([_extra_draws(s) for s in per_seed]), 2, separator="±")
    return f"{cell}; kept {_stat(per_seed, 'acceptance', 100.0, 0)} %, +{extra} draws per sample"


def _variants(result: dict) -> dict[str, list[dict]]:
    return result.get("variants") or {"plain": result["per_seed"]}


def other_variants(results: list[dict]) -> list[str]:
    """Every variant but ``plain`` in these results, in order of first appearance: one column each."""
    names = [v for result in results for v in _variants(result) if v != "plain"]
    return list(dict.fromkeys(names))


def format_row(result: dict, columns: list[str], image: str | None = None) -> str:
    """One Markdown row: the samples as drawn first (modes, HQ %, reverse KL as mean ± s.e.
    over seeds), then one cell per other variant (``—`` where this result lacks it)."""
    variants = _variants(result)
    plain = variants["plain"]
    quick = " (quick)" if result.get("quick") else ""
    load = result.get("load_average")
    timing = f"{result['seconds']:.0f} s" + (f" @ load {load:.1f}" if load is not None else "")
    plot = f" [plot]({image})" if image else ""
    others = "".join(f" {variant_cell(variants[v], v) if v in variants else '—'} |" for v in columns)
    return (
        f"| `{result['name']}`{quick}{plot} | {result['layout']} | {result.get('steps', '?')} | {len(plain)} "
        f"| {_stat(plain, 'modes_covered')} / {NUM_MODES[result['layout']]} "
        f"| {_stat(plain, 'high_quality_fraction', 100.0)} | {_kl(plain)} |{others} {timing} |"
    )


def header(columns: list[str]) -> str:
    """The table head: the unfiltered statistics first, then a column per other variant."""
    titles = "".join(f" {variant_title(v)} |" for v in columns)
    return (
        f"| config | data | steps | seeds | modes covered | high quality % | reverse KL |{titles} train time (all seeds) |\n"
        + "|---" * (8 + len(columns))
        + "|"
    )


LEGEND = (
    "Modes, high quality and reverse KL are of the samples as drawn from the EMA generator: what PacGAN and "
    "VEEGAN publish, and the only numbers to set beside their rows. Each further column samples the same weights "
    "another way (modes · high quality % · reverse KL); **filtered** columns keep only what D lets through, from "
    "the raw generator D was trained against (`EMA G`: older runs that filtered the EMA generator), and add the "
    "share of draws kept and the extra generator draws per kept sample (1/kept − 1; DRS also spends a one-off "
    "burn-in of 10,000 draws per seed)."
)


def image_name(result: dict) -> str:
    return f"toy2d_{result['name']}_{result['layout']}{'_quick' if result.get('quick') else ''}.png"


def table(results: dict, image_dir: str = "docs/images") -> str:
    """The Markdown table of a results file (``{"results": [...]}``; several files' lists may
    be concatenated): a row per config and layout, unfiltered first, then the other variants."""
    rows = [{"steps": results.get("args", {}).get("steps", "?"), **r} for r in results["results"]]  # older files
    columns = other_variants(rows)
    lines = [header(columns)]
    for result in rows:
        image = f"{image_dir}/{image_name(result)}" if "points_seed0" in result else None
        lines.append(format_row(result, columns, image))
    return "\n".join(lines) + (f"\n\n{LEGEND}" if columns else "")


def report(results: dict, image_dir: str = "docs/images") -> str:
    """:func:`table`, beside PacGAN's and VEEGAN's published rows (samples as drawn)."""
    return table(results, image_dir) + "\n\n" + PUBLISHED + "\n"


def plot(result: dict, path: Path) -> None:
    """Seed 0's samples (as drawn, after rejection, truncated) over the mode centres."""
    from matplotlib.figure import Figure

    data = GaussianMixture2DDataModule(result["layout"])
    modes, std = data.modes.numpy(), data.std
    variants = list(result["points_seed0"])
    figure = Figure(figsize=(3.2 * len(variants), 3.4), dpi=72)
    span = float(abs(modes).max()) * 1.3
    for i, variant in enumerate(variants):
        axes = figure.add_subplot(1, len(variants), i + 1)
        points = torch.tensor(result["points_seed0"][variant])
        stats = mode_statistics(points, data.modes, std)
        axes.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="tab:blue", linewidths=0)
        axes.scatter(modes[:, 0], modes[:, 1], s=20, marker="x", color="tab:red", linewidths=0.8)
        axes.set_xlim(-span, span)
        axes.set_ylim(-span, span)
        axes.set_aspect("equal")
        axes.tick_params(labelsize=6)
        axes.set_title(
            f"{variant}: {100 * stats.high_quality_fraction:.0f}% HQ, {stats.modes_covered} modes", fontsize=8
        )
    figure.suptitle(f"{result['name']} on the {result['layout']}, seed 0 ({len(points)} samples)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=72)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "toy2d", "3 seeds, a fifth of the steps")
    command.add_argument("--configs", nargs="+", default=["gan", "pacgan4", "gan_r1"])
    command.add_argument("--layouts", nargs="+", default=["ring", "grid"])
    command.add_argument("--seeds", type=int, default=10, help="how many seeds, trained side by side")
    add_steps(command, None, " (default: ring 5,000, grid 10,000)")
    command.add_argument("--batch-size", type=int, default=128, help="per seed")
    command.add_argument("--hidden", type=int, default=128)
    command.add_argument("--latent-dim", type=int, default=8)
    command.add_argument("--lr", type=float, default=1e-3)
    command.add_argument("--seed", type=int, default=0)
    command.add_argument(
        "--ema-kimg",
        type=lambda v: None if v.lower() == "none" else float(v),
        default=10.0,
        help="half-life (thousands of images per seed) of the EMA of G used for the evaluated samples; "
        "'none' evaluates the raw generator",
    )
    command.add_argument(
        "--rejection-quantile",
        type=float,
        nargs="*",
        default=[0.01, 0.1],
        help="hard-threshold variants at these quantiles of D's real scores (see gan_lightning.sampling.rejection)",
    )
    command.add_argument("--no-drs", dest="drs", action="store_false", help="skip the DRS variants")
    command.add_argument(
        "--drs-fine-tune",
        type=int,
        default=500,
        help="DRS: also filter with a copy of D fine-tuned this many logistic steps, G fixed (0: only D as trained)",
    )
    command.add_argument("--drs-batch", type=int, default=512, help="DRS fine-tuning: real and fake points per seed")
    command.add_argument("--drs-lr", type=float, default=1e-4, help="DRS fine-tuning: Adam learning rate")
    command.add_argument("--drs-burn-in", type=int, default=10_000, help="DRS: burn-in samples per seed")
    command.add_argument(
        "--drs-gamma-quantile",
        type=lambda v: None if v.lower() == "none" else float(v),
        default=0.8,
        help="DRS: gamma at this quantile of F-hat over the burn-in ('none': gamma = 0, exact rejection sampling)",
    )
    command.add_argument("--truncation", type=float, default=0.8, help="latent scale of the truncation variant")
    command.add_argument("--images", type=Path, default=IMAGES, help="scatter plots go here")
    command.add_argument("--table", type=Path, nargs="+", default=None, help="only print the report of saved outputs")
    args = command.parse_args(argv)
    if args.table is not None:
        print(report({"results": [r for path in args.table for r in json.loads(path.read_text())["results"]]}))
        return
    args = finish(args, "toy2d", {"seeds": min(args.seeds, 3)})

    torch.set_num_threads(1)
    quiet_lightning()
    results = []
    for layout in args.layouts:
        for name in args.configs:
            if args.quick:
                args.steps = DEFAULT_STEPS[layout] // 5
            result = run(name, layout, args)
            results.append(result)
            args.images.mkdir(parents=True, exist_ok=True)
            plot(result, args.images / image_name(result))
            print(table({"results": [result]}), flush=True)
    settings = {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()}
    write_results(args.out, {"args": settings, "quick": args.quick, "results": results})


if __name__ == "__main__":
    main()
