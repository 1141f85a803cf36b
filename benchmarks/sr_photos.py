"""SRGAN ×4 on photographs, CPU-sized: does a user's run on a folder of photos beat bicubic on
a held-out photo?

A user's path: ``configs/srgan.yaml`` + ``configs/data/sr_folder.yaml`` through the
CLI, on a training folder that holds one large photo (scikit-learn's bundled ``china.jpg``,
640×427: ``crops_per_image`` random crops of it per epoch) and a held-out folder with the other
(``flower.jpg``); nothing is downloaded. Scored on the held-out photo, beside bicubic upscaling:

- the **whole photo** (its 424×640 top, LR its 106×160 bicubic downsampling, super-resolved in
  one pass): PSNR and SSIM per image, the SR literature's protocol;
- its **held-out tiles** (the data module's fixed grid, what ``val/psnr`` averages): mean PSNR and
  SSIM over tiles, and how many tiles SR wins. A tile mean weighs a flat, near-lossless tile
  (bicubic at 45-50 dB) like a textured one: see BENCHMARKS.md for what that does.

Scored checkpoints: the end of the MSE-only warm-up (SRResNet-MSE) and the last (SRGAN).

    python -m benchmarks.sr_photos                 # 600 iterations (300 MSE-only), 64-px crops: ~4 min on 1 thread
    python -m benchmarks.sr_photos --quick         # 40 iterations -> sr_photos_quick.json

Prints the Markdown table of BENCHMARKS.md (:func:`report`, also used by benchmarks/run.py).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    load_average,
    parser,
    write_results,
)

CONFIG = CONFIGS / "srgan.yaml"
DATA = CONFIGS / "data" / "sr_folder.yaml"
SCALE = 4


def write_photos(root: Path) -> tuple[Path, Path]:
    """``root/train/china.png`` and ``root/held_out/flower.png``: the training and held-out folders."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    bundled = load_sample_images()
    folders = (root / "train", root / "held_out")
    for folder, name, image in zip(folders, ("china", "flower"), bundled.images, strict=True):
        folder.mkdir(parents=True)
        Image.fromarray(image).save(folder / f"{name}.png")
    return folders


def train(root: Path, steps: int, pretrain: int, crop: int, batch: int, extra: list[str]) -> tuple[Path, float]:
    """One CLI run of the config on the photo folders; its run folder and the training seconds."""
    train_folder, held_out = write_photos(root / "photos")
    start = time.perf_counter()
    cli_in_process(
        CONFIG,
        "--config", str(DATA),
        f"--data.init_args.root={train_folder}", f"--data.init_args.val_root={held_out}",
        f"--data.init_args.crop_size={crop}", f"--data.init_args.batch_size={batch}",
        f"--trainer.max_steps={steps}", f"--model.init_args.pretrain_steps={pretrain}",
        f"--trainer.val_check_interval={max(pretrain, 1)}", f"--checkpoint.every_n_train_steps={max(pretrain, 1)}",
        "--checkpoint.save_top_k=-1",
        *extra,
        root=root / "run",
    )  # fmt: skip
    return root / "run", time.perf_counter() - start


def scores(sr: torch.Tensor, bicubic: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-image PSNR and SSIM of SR and of bicubic against HR."""
    from gan_lightning.metrics import psnr, ssim

    return {
        "psnr_sr": psnr(sr, hr, reduction="none"),
        "psnr_bicubic": psnr(bicubic, hr, reduction="none"),
        "ssim_sr": ssim(sr, hr, reduction="none"),
        "ssim_bicubic": ssim(bicubic, hr, reduction="none"),
    }


@torch.no_grad()
def score(checkpoint: Path) -> dict[str, float]:
    """Whole-photo and per-tile PSNR/SSIM of SR and bicubic on the held-out photo."""
    from gan_lightning.commands.loading import load_datamodule, load_module
    from gan_lightning.data import bicubic_downsample
    from gan_lightning.metrics import bicubic_upscale

    module, config = load_module(checkpoint)
    data = load_datamodule(config, checkpoint)
    tiles: dict[str, list[torch.Tensor]] = {}
    for batch in data.val_dataloader():
        lr, hr = batch["source"], batch["target"]
        for name, value in scores(module.translate(lr), bicubic_upscale(lr, SCALE), hr).items():
            tiles.setdefault(name, []).append(value)
    per_tile = {name: torch.cat(values) for name, values in tiles.items()}
    photo = data.val_set.decoded[data.val_set.tiles[0][0]]  # the held-out photo, (3, 427, 640) uint8
    hr = photo[None, :, : photo.shape[1] // SCALE * SCALE, : photo.shape[2] // SCALE * SCALE].float() / 127.5 - 1
    lr = bicubic_downsample(hr, SCALE)
    whole = scores(module.translate(lr), bicubic_upscale(lr, SCALE), hr)
    return {
        **{f"photo_{name}": float(value) for name, value in whole.items()},
        **{f"tiles_{name}": float(value.mean()) for name, value in per_tile.items()},
        "tiles_won": int((per_tile["psnr_sr"] > per_tile["psnr_bicubic"]).sum()),
        "tiles": len(per_tile["psnr_sr"]),
    }


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: bicubic and each scored checkpoint, whole photo and tiles."""
    scored = results["results"]
    first = next(iter(scored.values()))
    lines = [
        "| model | photo PSNR (dB) | photo SSIM | tile mean PSNR (dB) | tile mean SSIM | tiles above bicubic |",
        "|---|---|---|---|---|---|",
        f"| bicubic upscale | {first['photo_psnr_bicubic']:.2f} | {first['photo_ssim_bicubic']:.3f} | "
        f"{first['tiles_psnr_bicubic']:.2f} | {first['tiles_ssim_bicubic']:.3f} | — |",
    ]
    for name, result in scored.items():
        its = results["pretrain_steps"] if name.startswith("SRResNet") else results["steps"]
        label = f"SRResNet-MSE (end of warm-up, {its:,} it.)" if name.startswith("SRResNet") else f"SRGAN ({its:,} it.)"
        lines.append(
            f"| {label} | {result['photo_psnr_sr']:.2f} | {result['photo_ssim_sr']:.3f} | "
            f"{result['tiles_psnr_sr']:.2f} | {result['tiles_ssim_sr']:.3f} | {result['tiles_won']} of {result['tiles']} |"
        )
    lines.append("")
    lines.append(
        f"Training: {results['steps']:,} iterations of batch {results['batch_size']} ({results['crop_size']}-px crops), "
        f"{results['train_seconds']:.0f} s on {results['torch_threads']} thread(s) "
        f"({results['iterations_per_second']:.2f} it/s, load average {results['load_average'][0]} before the run)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "sr_photos", "40 iterations, 20 of warm-up")
    add_threads(command)
    add_steps(command, 600, ", warm-up included")
    command.add_argument("--pretrain", type=int, default=300, help="MSE-only warm-up iterations")
    command.add_argument("--crop", type=int, default=64, help="side of the HR training crops and held-out tiles")
    command.add_argument("--batch", type=int, default=16, help="batch size")
    command.add_argument(
        "--set", nargs="*", action="extend", default=[], help="more CLI flags for the run, e.g. --set=--model...lr=1e-4"
    )
    args = finish(command.parse_args(argv), "sr_photos", {"steps": 40, "pretrain": 20})
    torch.set_num_threads(args.threads)
    load = load_average()
    with tempfile.TemporaryDirectory() as folder:
        run, seconds = train(Path(folder), args.steps, args.pretrain, args.crop, args.batch, args.set)
        checkpoints = {"SRGAN (last)": run / "checkpoints" / "last.ckpt"}
        warmup = run / "checkpoints" / f"step_{args.pretrain:07d}.ckpt"
        if warmup.is_file() and args.pretrain < args.steps:
            checkpoints = {"SRResNet-MSE (end of warm-up)": warmup, **checkpoints}
        results: dict[str, Any] = {name: score(path) for name, path in checkpoints.items()}
    record = {
        "command": f"python -m benchmarks.sr_photos --steps {args.steps} --pretrain {args.pretrain} "
        f"--crop {args.crop} --batch {args.batch}" + "".join(f" --set={flag}" for flag in args.set),
        "quick": args.quick,
        "config": "configs/srgan.yaml + configs/data/sr_folder.yaml",
        "train_photo": "china.jpg (scikit-learn)",
        "held_out_photo": "flower.jpg (scikit-learn)",
        "steps": args.steps,
        "pretrain_steps": args.pretrain,
        "crop_size": args.crop,
        "batch_size": args.batch,
        "train_seconds": round(seconds, 1),
        "iterations_per_second": round(args.steps / seconds, 3),
        "torch_threads": args.threads,
        "load_average": load,
        "results": results,
    }
    write_results(args.out, record)
    print(report(record))


if __name__ == "__main__":
    main()
