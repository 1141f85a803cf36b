"""SRGAN ×4 on the MNIST-5k demo (7×7 → 28×28), CPU-sized: does it beat bicubic?

Trains ``configs/srgan.yaml`` through the CLI (``--steps`` iterations, the first
``--pretrain`` of them MSE-only), then scores checkpoints on all 500 held-out digits:
PSNR and SSIM against HR for the SR output and for the bicubic upscale, and the shipped
MNIST classifier's accuracy on SR, bicubic and HR (its ceiling) images. Scored: the
checkpoint at the end of the warm-up (SRResNet-MSE) when one was written, and the last one
(SRGAN).

    python -m benchmarks.srgan --steps 1600 --pretrain 400     # the BENCHMARKS.md run, ~15 min on 1 core
    python -m benchmarks.srgan --quick                          # 100 iterations: ~1 min -> srgan_quick.json

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
    parser,
    write_results,
)

CONFIG = CONFIGS / "srgan.yaml"


def train(root: Path, steps: int, pretrain: int) -> tuple[Path, float]:
    """One CLI run of the config; returns its run folder and the training seconds."""
    start = time.perf_counter()
    cli_in_process(
        CONFIG,
        f"--trainer.max_steps={steps}",
        f"--model.init_args.pretrain_steps={pretrain}",
        f"--trainer.val_check_interval={max(pretrain, 1)}",
        f"--checkpoint.every_n_train_steps={max(pretrain, 1)}",
        "--checkpoint.save_top_k=-1",
        root=root,
    )
    return root, time.perf_counter() - start


@torch.no_grad()
def score(checkpoint: Path) -> dict[str, float]:
    """PSNR/SSIM of SR and bicubic against HR, and digit accuracies, over the whole held-out set."""
    from gan_lightning.commands.loading import load_datamodule, load_module
    from gan_lightning.metrics import bicubic_upscale, psnr, ssim
    from gan_lightning.mnist.classifier import shipped_digit_reader

    module, config = load_module(checkpoint)
    data = load_datamodule(config, checkpoint)
    reader = shipped_digit_reader("cpu")
    totals: dict[str, float] = {}
    count = 0
    for batch in data.val_dataloader():
        lr, hr, labels = batch["source"], batch["target"], batch["label"]
        images = {"sr": module.translate(lr), "bicubic": bicubic_upscale(lr, hr.shape[-1] // lr.shape[-1]), "hr": hr}
        values = {}
        for name, image in images.items():
            if name != "hr":
                values[f"psnr_{name}"] = psnr(image, hr, reduction="none").sum()
                values[f"ssim_{name}"] = ssim(image, hr, reduction="none").sum()
            values[f"digit_accuracy_{name}"] = (reader.extract(image)[1].argmax(1) == labels).float().sum()
        for key, value in values.items():
            totals[key] = totals.get(key, 0.0) + float(value)
        count += lr.shape[0]
    return {key: value / count for key, value in totals.items()} | {"held_out_images": count}


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: bicubic, each scored checkpoint and the classifier's ceiling."""
    scored = results["results"]
    any_result = next(iter(scored.values()))
    lines = [
        "| model | PSNR (dB) | SSIM | digit accuracy |",
        "|---|---|---|---|",
        f"| bicubic upscale | {any_result['psnr_bicubic']:.2f} | {any_result['ssim_bicubic']:.3f} | "
        f"{100 * any_result['digit_accuracy_bicubic']:.1f} % |",
    ]
    for name, result in scored.items():
        if name.startswith("SRResNet"):
            label = f"SRResNet-MSE (end of warm-up, {results['pretrain_steps']:,} it.)"
        else:
            label = f"SRGAN ({results['steps']:,} it.)"
        lines.append(
            f"| {label} | {result['psnr_sr']:.2f} | {result['ssim_sr']:.3f} | {100 * result['digit_accuracy_sr']:.1f} % |"
        )
    lines.append(f"| HR images (classifier ceiling) | — | — | {100 * any_result['digit_accuracy_hr']:.1f} % |")
    lines.append("")
    lines.append(
        f"Training: {results['train_seconds']:.0f} s on {results['torch_threads']} thread(s); "
        f"scored on {any_result['held_out_images']} held-out digits."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "srgan", "100 iterations, 30 of warm-up")
    add_threads(command)
    add_steps(command, 2000, ", warm-up included")
    command.add_argument("--pretrain", type=int, default=500, help="MSE-only warm-up iterations")
    args = finish(command.parse_args(argv), "srgan", {"steps": 100, "pretrain": 30})
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        run, seconds = train(Path(folder), args.steps, args.pretrain)
        checkpoints = {"SRGAN (last)": run / "checkpoints" / "last.ckpt"}
        warmup = run / "checkpoints" / f"step_{args.pretrain:07d}.ckpt"
        if warmup.is_file():
            checkpoints = {"SRResNet-MSE (end of warm-up)": warmup, **checkpoints}
        results: dict[str, Any] = {name: score(path) for name, path in checkpoints.items()}
    record = {
        "command": f"python -m benchmarks.srgan --steps {args.steps} --pretrain {args.pretrain}",
        "quick": args.quick,
        "config": "configs/srgan.yaml",
        "steps": args.steps,
        "pretrain_steps": args.pretrain,
        "train_seconds": round(seconds, 1),
        "torch_threads": args.threads,
        "results": results,
    }
    write_results(args.out, record)
    print(report(record))


if __name__ == "__main__":
    main()
