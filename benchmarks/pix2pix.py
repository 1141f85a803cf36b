"""pix2pix on the MNIST-5k demo (edges → digits, 32 px): train configs/pix2pix.yaml on the CPU,
then score the final generator on all held-out pairs.

    python -m benchmarks.pix2pix                      # 2500 iterations, ~6-7 min on 1 core
    python -m benchmarks.pix2pix --quick              # 200 iterations, ~1 min -> pix2pix_quick.json

Reported (benchmarks/results/pix2pix.json): held-out L1 of the outputs beside two baselines
that ignore the generator (the edge map itself, the mean training digit), and how often the
shipped MNIST classifier reads the target digit in the outputs, beside its accuracy on the
real targets (its ceiling) and on the edge maps. Outputs are drawn as the paper does (dropout
on, test-batch statistics; ``sample_mode=train``) and deterministically (``eval``).
"""

from __future__ import annotations

import platform
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
from gan_lightning.metrics import TranslationScores
from gan_lightning.mnist import DigitAccuracy, digit_accuracy
from gan_lightning.tasks import Pix2Pix

CONFIG = CONFIGS / "pix2pix.yaml"


@torch.no_grad()
def evaluate(model: Pix2Pix, loader: torch.utils.data.DataLoader, mode: str) -> dict[str, float]:
    """Held-out scores averaged over every pair (batches weighted by size)."""
    model.sample_mode = mode
    totals: dict[str, float] = {}
    count = 0
    for index, batch in enumerate(loader):
        size = batch["source"].shape[0]
        outputs = model.held_out_outputs(batch, index)
        scores = {**TranslationScores().update(model, batch, outputs), **DigitAccuracy().update(model, batch, outputs)}
        scores["digit_accuracy_target"] = digit_accuracy(batch["target"], batch["label"])
        scores["digit_accuracy_source"] = digit_accuracy(batch["source"], batch["label"])
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


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "pix2pix", "200 iterations")
    add_threads(command)
    add_steps(command, 2500)
    args = finish(command.parse_args(argv), "pix2pix", {"steps": 200})
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        cli = cli_in_process(CONFIG, f"--trainer.max_steps={args.steps}", root=Path(folder))
        seconds = time.perf_counter() - start
        model = cli.model.cpu()
        loader = cli.datamodule.val_dataloader()
        results = {
            "command": f"python -m benchmarks.pix2pix --steps {args.steps}",
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
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
