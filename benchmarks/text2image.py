"""Text-to-image (GAN-INT-CLS) on the MNIST-5k captions: train configs/text2image.yaml on the
CPU, then read every held-out caption's image back.

    python -m benchmarks.text2image                    # 5000 iterations (configs/text2image.yaml)
    python -m benchmarks.text2image --quick            # 120 iterations, ~1-2 min
    python -m benchmarks.text2image --checkpoint runs/<run>/checkpoints/last.ckpt --out x.json  # score a run
    python -m benchmarks.text2image --steps 1000 --out benchmarks/results/text2image_paper.json \
        --model.init_args.contrastive_weight=0 --model.init_args.discriminator.init_args.head=concat  # ablation

Reported (benchmarks/results/text2image.json), on all 500 held-out captions, one image each
(seeded noise): how often the image shows what its caption says — the shipped MNIST classifier
reading the digit where the caption puts it, the position from the ink's centre of mass, the
size from the ink's extent, the thickness from the ink mass against its (class, size) median —
beside chance, beside the same reading of the real held-out canvases (the ceiling) and of real
canvases paired with another caption (chance as measured). FID of the classifier's features of
the caption windows, generated vs real held-out, beside its floor (500 real training canvases vs
the same real held-out). Diversity: for the first 50 held-out captions, 8 images each (8 seeded
noises), the mean pairwise distance of those features among one caption's images, against the
same for 8 real held-out digits that match the caption (same digit, and thickness where the
caption says it and enough exist), composed where and as large as the caption says — the
ratio is 1 when G varies as much as real digits that fit the caption do, near 0 when it
ignores z. Writes the final sample grid and a prompt grid next to the JSON.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torchvision.utils import save_image

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    parser,
    write_results,
)
from gan_lightning.metrics.functional import frechet_distance
from gan_lightning.mnist import MNISTCaptionsDataModule
from gan_lightning.mnist.caption_reading import caption_scores
from gan_lightning.mnist.captions import ComposedCaptionDataset
from gan_lightning.tasks import TextToImage

CONFIG = CONFIGS / "text2image.yaml"
DIVERSITY_CAPTIONS, DIVERSITY_SAMPLES = 50, 8
CHANCE = {"digit": 0.1, "position": 0.25, "size": 0.5, "thickness": 0.5}
PROMPTS = [
    "a thick seven on the left",
    "a small two at the top",
    "a big thin 0 on the right",
    "at the bottom , a bold 4",
]


def read_back(images_of, batches: list[dict], data: MNISTCaptionsDataModule) -> tuple[dict[str, float], torch.Tensor]:
    """Mean accuracy per attribute over every caption that states it, and the windows' features."""
    thresholds = data.thickness_thresholds()
    results: dict[str, list[torch.Tensor]] = {}
    features = []
    for index, batch in enumerate(batches):
        scores, batch_features = caption_scores(images_of(index, batch), batch, data.layout, thresholds)
        features.append(batch_features)
        for name, value in scores.items():
            results.setdefault(name, []).append(value)
    return {name: round(float(torch.cat(v).nanmean()), 4) for name, v in results.items()}, torch.cat(features)


@torch.no_grad()
def evaluate(model: TextToImage, data: MNISTCaptionsDataModule) -> dict:
    held_out = list(data.val_dataloader())
    generated, fake_features = read_back(lambda i, b: model.held_out_images(b, i), held_out, data)
    real, real_features = read_back(lambda i, b: b["image"], held_out, data)
    other = [dict(b, **{k: b[k].roll(1, 0) for k in ("digit", "position", "size", "thickness")}) for b in held_out]
    shuffled, _ = read_back(lambda i, b: b["image"], other, data)
    train_set = data.train_set
    train_batches = [
        {k: torch.stack([train_set[i][k] for i in range(start, start + 100)]) for k in held_out[0]}
        for start in range(0, 500, 100)
    ]
    _, train_features = read_back(lambda i, b: b["image"], train_batches, data)
    return {
        "captions": sum(len(b["image"]) for b in held_out),
        "generated": generated,
        "real_ceiling": real,
        "real_with_another_caption": shuffled,
        "chance": CHANCE,
        "fid_windows": round(frechet_distance(real_features, fake_features), 3),
        "fid_floor_windows": round(frechet_distance(real_features, train_features), 3),
    }


def spread(features: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance of (n, d) features."""
    return float(torch.pdist(features.double()).mean())


def matching_reals(held_out: ComposedCaptionDataset, attributes: dict, count: int, seed: int) -> torch.Tensor:
    """``count`` real held-out digits of the caption's class (and thickness, where the caption
    says it and ``count`` such digits exist) composed at its position and size (a random size
    where it says none), with the data's jitter."""
    draw = torch.Generator().manual_seed(seed)
    same_digit = held_out.labels == attributes["digit"]
    same = same_digit & (held_out.thickness == attributes["thickness"])
    pool = same if attributes["thickness"] >= 0 and int(same.sum()) >= count else same_digit
    indices = pool.nonzero().flatten()
    chosen = indices[torch.randperm(len(indices), generator=draw)[:count]]
    jitter = held_out.layout.jitter
    images = []
    for index in chosen.tolist():
        size = attributes["size"] if attributes["size"] >= 0 else int(torch.randint(2, (1,), generator=draw))
        shift = tuple(int(v) for v in torch.randint(-jitter, jitter + 1, (2,), generator=draw))
        images.append(held_out.compose(index, attributes["position"], size, shift))
    return torch.stack(images)


@torch.no_grad()
def diversity(model: TextToImage, data: MNISTCaptionsDataModule) -> dict[str, float]:
    """Mean per-caption feature spread of generated vs matching real digits (module docstring)."""
    held_out = data.val_set
    assert isinstance(held_out, ComposedCaptionDataset)
    thresholds = data.thickness_thresholds()
    noise = torch.randn(DIVERSITY_SAMPLES, model.latent_dim, generator=torch.Generator().manual_seed(1))
    generated, real = [], []
    for index in range(DIVERSITY_CAPTIONS):
        item = held_out[index]
        batch = {k: v.expand(DIVERSITY_SAMPLES, *v.shape) for k, v in item.items()}
        attributes = {k: int(item[k]) for k in ("digit", "position", "size", "thickness")}
        images = model.generate(noise, batch["tokens"], batch["length"])
        _, fake_features = caption_scores(images, batch, data.layout, thresholds)
        _, real_features = caption_scores(
            matching_reals(held_out, attributes, DIVERSITY_SAMPLES, index), batch, data.layout, thresholds
        )
        generated.append(spread(fake_features))
        real.append(spread(real_features))
    fake_mean, real_mean = sum(generated) / len(generated), sum(real) / len(real)
    return {
        "captions": DIVERSITY_CAPTIONS,
        "samples_per_caption": DIVERSITY_SAMPLES,
        "generated_spread": round(fake_mean, 4),
        "real_spread": round(real_mean, 4),
        "ratio": round(fake_mean / real_mean, 4),
    }


ROWS = {
    "digit": "digit (shipped classifier, in the caption's window)",
    "position": "position (ink's centre of mass)",
    "size": "size (ink's extent)",
    "thickness": "thickness (ink mass vs its class and size median)",
}


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table (each attribute read back, beside ceiling and chance) and the grids."""
    lines = [
        "| what the caption asks, read back | generated | real held-out (ceiling) | real with another caption | chance |",
        "|---|---|---|---|---|",
    ]
    for key, name in ROWS.items():
        cells = [
            results[column][key] for column in ("generated", "real_ceiling", "real_with_another_caption", "chance")
        ]
        lines.append(f"| {name} | " + " | ".join(f"{value:.2f}" for value in cells) + " |")
    lines.append(
        f"| FID, classifier features of the caption windows (floor {results['fid_floor_windows']:.2f}) "
        f"| {results['fid_windows']:.2f} | | | |"
    )
    spread_of = results["diversity"]
    lines.append(
        f"| diversity: feature spread of {spread_of['samples_per_caption']} samples per caption "
        f"({spread_of['captions']} captions), generated / real matching the caption "
        f"| {spread_of['ratio']:.2f} ({spread_of['generated_spread']:.2f} / {spread_of['real_spread']:.2f}) | | | |"
    )
    samples, prompts = (results[key].split(" ")[0] for key in ("sample_grid", "prompt_grid"))
    lines += [
        "",
        f"{results['iterations']:,} iterations{trained_for(results)}; "
        f"{results['captions']} held-out captions, one image each. Prompt grid and final sample grid:",
        "",
        f"![prompts](benchmarks/results/{prompts}) ![samples](benchmarks/results/{samples})",
    ]
    return "\n".join(lines)


def trained(args: argparse.Namespace, extra: list[str], folder: Path) -> tuple[TextToImage, Any, dict[str, Any]]:
    """Train the config here (``--steps`` and the extra CLI flags): the model, its data and how it ran."""
    start = time.perf_counter()
    cli = cli_in_process(CONFIG, f"--trainer.max_steps={args.steps}", *extra, root=folder)
    seconds = time.perf_counter() - start
    grids = sorted(folder.rglob("samples/step_*.png"))
    if grids:
        shutil.copy(grids[-1], f"{args.out.with_suffix('')}_samples.png")
    run = {
        "command": f"python -m benchmarks.text2image --steps {args.steps} {' '.join(extra)}".strip(),
        "iterations": cli.trainer.global_step,
        "train_seconds": round(seconds, 1),
    }
    return cli.model, cli.datamodule, run


def loaded(args: argparse.Namespace) -> tuple[TextToImage, Any, dict[str, Any]]:
    """A trained run's checkpoint and the data of its config.yaml: the model, its data and where it came from."""
    from gan_lightning.commands.loading import load_datamodule, load_module

    model, config = load_module(args.checkpoint)
    if config is None:
        raise SystemExit(f"No config.yaml next to {args.checkpoint}: score a run folder's checkpoint.")
    data = load_datamodule(config, args.checkpoint)
    data.setup("fit")
    step = torch.load(args.checkpoint, map_location="cpu", weights_only=True)["global_step"]
    run = {"command": f"python -m benchmarks.text2image --checkpoint {args.checkpoint}", "iterations": step}
    return model, data, run | {"train_seconds": None, "config_used": str(config)}


def trained_for(results: dict[str, Any]) -> str:
    """How long training took, where this run trained it (a scored checkpoint says which)."""
    if results.get("train_seconds") is None:
        return f" (checkpoint {results['command'].split('--checkpoint ')[-1]})"
    return f" in {results['train_seconds']:.0f} s on {results['threads']} thread(s)"


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "text2image", "120 iterations")
    add_threads(command)
    add_steps(command, 5000)
    command.add_argument("--checkpoint", type=Path, help="score this trained run instead of training one")
    args, extra = command.parse_known_args(argv)  # the rest: CLI flags, e.g. --model.init_args.contrastive_weight=0
    args = finish(args, "text2image", {"steps": 120})
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        model, data, run = loaded(args) if args.checkpoint else trained(args, extra, Path(folder))
        model = model.cpu().eval()
        stem = args.out.with_suffix("")
        save_image((model.sample_captions(PROMPTS, 8, seed=0) + 1) / 2, f"{stem}_prompts.png", nrow=8, pad_value=1.0)
        results = {
            **run,
            "quick": args.quick,
            "config": "configs/text2image.yaml (MNIST-5k captions, 32-px canvas, batch 64, 500 held-out captions)",
            "threads": args.threads,
            "cpu": platform.processor() or platform.machine(),
            "parameters": model.num_parameters(),
            "sample_grid": f"{stem.name}_samples.png (rows: {model.fixed_captions()})",
            "prompt_grid": f"{stem.name}_prompts.png (rows: {PROMPTS})",
            **evaluate(model, data),
            "diversity": diversity(model, data),
        }
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
