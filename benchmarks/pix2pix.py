"""pix2pix on the MNIST-5k demo (edges → digits, 32 px): train configs/pix2pix.yaml on the CPU,
then score the final generator on all held-out pairs.

    PYTHONPATH=. python benchmarks/pix2pix.py                      # 2500 iterations, ~6-7 min on 1 core
    PYTHONPATH=. python benchmarks/pix2pix.py --quick              # 200 iterations, ~1 min -> pix2pix_quick.json

Reported (benchmarks/results/pix2pix.json): held-out L1 of the outputs beside two baselines
that ignore the generator (the edge map itself, the mean training digit), and how often the
shipped MNIST classifier reads the target digit in the outputs, beside its accuracy on the
real targets (its ceiling) and on the edge maps. Outputs are drawn as the paper does (dropout
on, test-batch statistics; ``sample_mode=train``) and deterministically (``eval``).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from gan_lightning.cli import GANLightningCLI
from gan_lightning.tasks import Pix2Pix

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "pix2pix.yaml"


def train(max_steps: int, folder: Path) -> GANLightningCLI:
    return GANLightningCLI(
        args=[
            "fit",
            "--config",
            str(CONFIG),
            f"--trainer.max_steps={max_steps}",
            "--trainer.accelerator=cpu",
            "--trainer.logger=false",
            "--trainer.enable_progress_bar=false",
            "--trainer.callbacks+=gan_lightning.callbacks.IterationProgressBar",
            f"--trainer.default_root_dir={folder}",
        ]
    )


@torch.no_grad()
def evaluate(model: Pix2Pix, loader: torch.utils.data.DataLoader, mode: str) -> dict[str, float]:
    """Held-out scores averaged over every pair (batches weighted by size)."""
    model.sample_mode = mode
    totals: dict[str, float] = {}
    count = 0
    for index, batch in enumerate(loader):
        size = batch["source"].shape[0]
        scores = model.held_out_scores(batch, index)
        scores["digit_accuracy_target"] = model.digit_accuracy(batch["target"], batch["label"])
        scores["digit_accuracy_source"] = model.digit_accuracy(batch["source"], batch["label"])
        for name, value in scores.items():
            totals[name] = totals.get(name, 0.0) + float(value) * size
        count += size
    return {name: round(total / count, 4) for name, total in totals.items()} | {"pairs": count}


SAMPLING = {"paper_sampling": "paper (dropout on, test-batch BN)", "eval_sampling": "eval (deterministic)"}


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: held-out L1 and digit accuracy beside baselines and the ceiling."""
    lines = [
        "| iterations (train time) | sampling | held-out L1 | identity L1 | mean-image L1 | digit read in output "
        "| on targets (ceiling) | on edge maps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    run = f"{results['iterations']:,} ({results['train_seconds'] / 60:.1f} min)"
    for key, sampling in SAMPLING.items():
        s = results[key]
        lines.append(
            f"| {run} | {sampling} | {s['l1']:.3f} | {s['l1_identity']:.3f} | {s['l1_mean']:.3f} | "
            f"{100 * s['digit_accuracy']:.1f} % | {100 * s['digit_accuracy_target']:.1f} % | "
            f"{100 * s['digit_accuracy_source']:.1f} % |"
        )
    pairs = results["paper_sampling"]["pairs"]
    return "\n".join(lines) + f"\n\nScored on {pairs} held-out pairs; {results['threads']} thread(s)."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-steps", type=int, default=2500)
    parser.add_argument("--quick", action="store_true", help="200 iterations")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.max_steps = 200
    args.out = args.out or ROOT / "benchmarks" / "results" / ("pix2pix_quick.json" if args.quick else "pix2pix.json")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        cli = train(args.max_steps, Path(folder))
        seconds = time.perf_counter() - start
        model = cli.model.cpu()
        loader = cli.datamodule.val_dataloader()
        results = {
            "command": f"PYTHONPATH=. python benchmarks/pix2pix.py --max-steps {args.max_steps}",
            "quick": args.quick,
            "config": "configs/pix2pix.yaml (MNIST-5k edges -> digits, 32 px, batch 32, 500 held-out pairs)",
            "iterations": cli.trainer.global_step,
            "train_seconds": round(seconds, 1),
            "threads": args.threads,
            "cpu": platform.processor() or platform.machine(),
            "parameters": model.num_parameters(),
            "paper_sampling": evaluate(model, loader, "train"),
            "eval_sampling": evaluate(model, loader, "eval"),
        }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
