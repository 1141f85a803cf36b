"""``gan-lightning sample CKPT --out DIR``: images from a trained generator.

Writes ``DIR/grid.png`` (a sample grid), ``DIR/images/000000.png ...`` (``--num-images``
single PNGs, for data augmentation or external metrics such as clean-fid/torch-fidelity;
with ``--labels balanced`` or ``--labels 3,7`` a class-conditional GAN writes them class by
class instead: ``DIR/images/<class>/000000.png`` plus ``DIR/labels.csv``, docs/augmentation.md)
and ``DIR/interpolation.png`` (one row per latent pair, ``--steps`` images from one end
to the other). Seeded: the same command writes the same images.

A video checkpoint (a task with ``makes_clips``, e.g. ``VideoGAN``) writes clips instead:
``DIR/grid.gif`` (``--grid-size`` clips, animated) with ``DIR/grid.png`` (its film strip, one
clip per row), ``DIR/clips/000000.gif ...`` (``--num-images`` clips) and, when PyAV is
installed, ``DIR/grid.mp4``. For a text-to-image model, ``--prompt "a thick seven on the left"``
(repeatable) writes ``DIR/prompt_<i>.png`` instead.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from gan_lightning.commands.loading import load_module, truncation_option
from gan_lightning.errors import CommandLineError


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="gan-lightning sample", description=__doc__)
    parser.add_argument("checkpoint", type=Path, help="a .ckpt written by `lightning fit`")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--config", type=Path, help="the run's config.yaml (default: found next to the checkpoint)")
    parser.add_argument("--grid-size", type=int, default=64, help="images in grid.png (0: none)")
    parser.add_argument("--num-images", type=int, default=0, help="single PNGs written to <out>/images")
    parser.add_argument("--interpolations", type=int, default=8, help="rows of interpolation.png (0: none)")
    parser.add_argument("--steps", type=int, default=10, help="images per interpolation row")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--raw-generator", action="store_true", help="use the raw generator, not its EMA")
    parser.add_argument(
        "--truncation", type=float, help="grid and images from noise truncated to ±T (precision up, variety down)"
    )
    parser.add_argument("--fps", type=float, default=8.0, help="frames per second of GIFs (video checkpoints)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument(
        "--prompt",
        action="append",
        default=[],
        help="text-to-image models: write <out>/prompt_<i>.png, --per-prompt images of this caption (repeatable)",
    )
    parser.add_argument("--per-prompt", type=int, default=8, help="images per --prompt (one noise each)")
    add_label_arguments(parser)
    return parser


# ---- --labels: class-labelled samples for a classifier (docs/augmentation.md) ----
def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--labels",
        help="class-conditional GANs: write the --num-images images as <out>/images/<class>/*.png plus "
        "<out>/labels.csv, 'balanced' (every class equally often) or a list of classes such as 3,7",
    )
    parser.add_argument(
        "--keep-classified",
        action="store_true",
        help="with --labels: redraw every sample that the discriminator's auxiliary classifier (AC-GAN, "
        "aux_classes) reads as another class, so each written image reads as its label",
    )


def requested_labels(module: Any, args: argparse.Namespace) -> Tensor | None:
    """The class of each of the ``--num-images`` samples (``--labels`` classes cycled, so each
    gets an equal share), checked before anything is written; ``None`` without ``--labels``."""
    from gan_lightning.synthetic import cycled_labels, parse_classes

    if args.labels is None:
        if getattr(args, "keep_classified", False):
            raise CommandLineError("--keep-classified filters the labelled export: add --labels balanced (or 3,7).")
        return None
    num_classes = getattr(getattr(module, "generator", None), "num_classes", 0)
    if not num_classes:
        raise CommandLineError(
            f"--labels needs a class-conditional GAN (a generator with num_classes, e.g. configs/cgan.yaml or "
            f"configs/augmentation.yaml); {args.checkpoint} is unconditional: leave out --labels."
        )
    if not args.num_images:
        raise CommandLineError("--labels writes the --num-images images: give --num-images N (N > 0).")
    discriminator = getattr(module, "discriminator", None)
    if getattr(args, "keep_classified", False) and not callable(getattr(discriminator, "classify", None)):
        raise CommandLineError(
            f"--keep-classified needs a discriminator with an auxiliary classifier (aux_classes, trained by "
            f"tasks.ACGAN, e.g. configs/augmentation.yaml); {type(discriminator).__name__} has none."
        )
    return cycled_labels(args.num_images, parse_classes(args.labels, num_classes))


def write_labelled_samples(module: Any, args: argparse.Namespace, labels: Tensor) -> Path:
    """``<out>/images/<class>/*.png`` and ``<out>/labels.csv`` for ``labels``; the manifest's path.
    Noise from its own ``--seed`` generator: the same images whatever else is written. With
    ``--keep-classified``, samples the discriminator's classifier reads as another class are
    redrawn (and the share redrawn is printed)."""
    from gan_lightning.sampling import RejectionError, keep_classified
    from gan_lightning.synthetic import write_labelled_images

    generator = torch.Generator().manual_seed(args.seed)
    options = truncation_option(module, args.truncation)
    drawn = 0

    def generate(batch: Tensor) -> Tensor:
        return module.sample(len(batch), labels=batch, use_ema=not args.raw_generator, generator=generator, **options)

    def generate_classified(batch: Tensor) -> Tensor:
        nonlocal drawn
        with torch.no_grad():
            try:
                kept = keep_classified(generate, module.discriminator.classify, batch.to(module.device))
            except RejectionError as error:
                raise CommandLineError(f"--keep-classified: {error}") from error
        drawn += kept.drawn
        return kept.samples

    manifest = write_labelled_images(
        generate_classified if args.keep_classified else generate, args.out, labels, args.batch_size
    )
    if args.keep_classified:
        print(f"--keep-classified: drew {drawn} samples to keep {len(labels)} ({len(labels) / drawn:.2%} kept)")
    return manifest


def to_unit(images: Tensor) -> Tensor:
    """[-1, 1] → [0, 1] for PNG files."""
    return ((images.float().clamp(-1, 1) + 1) / 2).cpu()


def slerp(start: Tensor, end: Tensor, weights: Tensor) -> Tensor:
    """Spherical interpolation (White 2016, "Sampling Generative Networks"): for Gaussian z
    it keeps the norm typical of the prior, where a straight line passes through the
    low-density centre. Rows of ``start``/``end`` (B, D), ``weights`` (T,) → (B, T, D)."""
    start_unit, end_unit = start / start.norm(dim=1, keepdim=True), end / end.norm(dim=1, keepdim=True)
    omega = torch.acos((start_unit * end_unit).sum(dim=1).clamp(-1 + 1e-7, 1 - 1e-7)).unsqueeze(1)  # (B, 1)
    t = weights.view(1, -1, 1)
    omega = omega.unsqueeze(1)
    sin = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / sin) * start.unsqueeze(1) + (torch.sin(t * omega) / sin) * end.unsqueeze(1)


def interpolation_latents(module: Any, rows: int, steps: int, generator: torch.Generator) -> Tensor:
    """(rows · steps, D) latents: slerp for normal noise, straight lines for uniform noise."""
    start, end = module.sample_latent(rows, generator), module.sample_latent(rows, generator)
    weights = torch.linspace(0, 1, steps, device=start.device)
    if getattr(module, "latent_distribution", "normal") == "uniform":
        path = start.unsqueeze(1) + weights.view(1, -1, 1) * (end - start).unsqueeze(1)
    else:
        path = slerp(start, end, weights)
    return path.reshape(rows * steps, -1)


def write_samples(args: argparse.Namespace) -> dict[str, Path]:
    """Writes the requested files; returns what was written."""
    for name in ("grid_size", "num_images", "interpolations"):
        if getattr(args, name) < 0:
            raise CommandLineError(f"--{name.replace('_', '-')} must be >= 0.")
    if args.steps < 2:
        raise CommandLineError("--steps must be at least 2 (the two ends of each interpolation).")
    module, _ = load_module(args.checkpoint, args.config, metrics=None)
    module.to(torch.device(args.device))
    if args.prompt:
        return write_prompt_grids(module, args)
    if module.offers("sample_captions"):
        raise CommandLineError(
            f'{type(module).__name__} draws images for captions: add --prompt "<a caption>" (repeatable), '
            "written in the words of its training captions."
        )
    labels = requested_labels(module, args)
    if module.makes_clips:
        return write_clips(module, args)
    use_ema = not args.raw_generator
    options = truncation_option(module, args.truncation)
    generator = torch.Generator().manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    if args.grid_size:
        images = module.sample(args.grid_size, use_ema=use_ema, generator=generator, **options)
        path = args.out / "grid.png"
        save_image(to_unit(images), path, nrow=max(1, int(math.sqrt(args.grid_size))), pad_value=1.0)
        written["grid"] = path

    if labels is not None:
        written["labels"] = write_labelled_samples(module, args, labels)
    elif args.num_images:
        folder = args.out / "images"
        folder.mkdir(exist_ok=True)
        index = 0
        while index < args.num_images:
            count = min(args.batch_size, args.num_images - index)
            for image in to_unit(module.sample(count, use_ema=use_ema, generator=generator, **options)):
                save_image(image, folder / f"{index:06d}.png")
                index += 1
        written["images"] = folder

    if args.interpolations:
        latents = interpolation_latents(module, args.interpolations, args.steps, generator)
        labels = module.sample_labels(args.interpolations, generator)
        if labels is not None:  # one class per row
            labels = labels.repeat_interleave(args.steps)
        images = module.generate(latents, labels, use_ema=use_ema)
        path = args.out / "interpolation.png"
        save_image(make_grid(to_unit(images), nrow=args.steps, pad_value=1.0), path)
        written["interpolation"] = path
    return written


def write_clips(module: Any, args: argparse.Namespace) -> dict[str, Path]:
    """A video checkpoint's clips: the grid GIF, its film strip and MP4, and single GIFs."""
    from gan_lightning.loggers.clips import film_strip, grid_frames, save_gif, save_mp4

    if args.fps <= 0:
        raise CommandLineError("--fps must be positive.")
    generator = torch.Generator().manual_seed(args.seed)
    use_ema = not args.raw_generator
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if args.grid_size:
        clips = module.sample(args.grid_size, use_ema=use_ema, generator=generator).float().cpu()
        frames = grid_frames(clips)
        written["grid"] = save_gif(frames, args.out / "grid.gif", args.fps)
        save_image(film_strip(clips), args.out / "grid.png")
        written["strip"] = args.out / "grid.png"
        mp4 = save_mp4(frames, args.out / "grid.mp4", args.fps)  # None without PyAV
        if mp4 is not None:
            written["mp4"] = mp4
    if args.num_images:
        folder = args.out / "clips"
        folder.mkdir(exist_ok=True)
        for start in range(0, args.num_images, args.batch_size):
            count = min(args.batch_size, args.num_images - start)
            clips = module.sample(count, use_ema=use_ema, generator=generator).float().cpu()
            for offset, clip in enumerate(clips):
                save_gif(to_unit(clip.transpose(0, 1)), folder / f"{start + offset:06d}.gif", args.fps)  # no border
        written["clips"] = folder
    return written


def write_prompt_grids(module: Any, args: argparse.Namespace) -> dict[str, Path]:
    """``<out>/prompt_<i>.png`` per ``--prompt`` (``--per-prompt`` noises, the same for every
    prompt, seeded by ``--seed``) and ``<out>/prompts.txt`` listing which file is which."""
    if not module.offers("sample_captions"):
        raise CommandLineError(
            f"--prompt needs a text-to-image model (TextToImage); {args.checkpoint} holds a "
            f"{type(module).__name__}, which does not read text."
        )
    if args.per_prompt < 1:
        raise CommandLineError("--per-prompt must be >= 1.")
    images = module.sample_captions(args.prompt, args.per_prompt, seed=args.seed, use_ema=not args.raw_generator)
    args.out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for index, (prompt, grid) in enumerate(zip(args.prompt, images.split(args.per_prompt), strict=True)):
        path = args.out / f"prompt_{index}.png"
        save_image(to_unit(grid), path, nrow=args.per_prompt, pad_value=1.0)
        written[f"prompt {index}: {prompt!r}"] = path
    listing = args.out / "prompts.txt"
    listing.write_text("".join(f"prompt_{i}.png\t{prompt}\n" for i, prompt in enumerate(args.prompt)))
    written["prompts"] = listing
    return written


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    for name, path in write_samples(args).items():
        print(f"{name}: {path}")
    return 0
