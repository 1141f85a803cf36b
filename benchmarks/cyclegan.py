"""CycleGAN on the MNIST-5k styles demo: does each direction keep the digit while changing style?

Trains ``configs/cyclegan.yaml`` (plain ↔ thick digits from disjoint halves of MNIST-5k, 32 px)
through the project's CLI for ``--steps`` iterations with the LR schedule spanning them, records
the held-out metrics at every validation, then scores the final translators on all 500
held-out digits beside two references:

* ``identity`` — the untranslated input as the "translation": the style check's floor, and
  what the digit reader makes of an unchanged image;
* ``ground truth`` — the true styled digit (``apply_style(a)``) and the plain digit: the
  ceiling of the style check and of the digit reader (thick digits are eroded before the
  classifier reads them, :func:`~gan_lightning.tasks.cyclegan.readable_digits`).

    python -m benchmarks.cyclegan                  # 1,000 iterations of batch 8, ~9-12 min on a shared core
    python -m benchmarks.cyclegan --quick          # 60 iterations, ~1 min -> cyclegan_quick.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch

from benchmarks.harness import (
    CONFIGS,
    ROOT,
    add_common_flags,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    parser,
    write_results,
)
from gan_lightning.mnist import StyleScores, apply_style
from gan_lightning.tasks import CycleGAN


class Trajectory(pl.Callback):
    """The logged ``val/*`` metrics after every validation, with the iteration."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        self.rows.append({"step": trainer.global_step, **metrics})


def references(model: CycleGAN, held_out: dict[str, torch.Tensor], style: str) -> dict[str, dict[str, float]]:
    """Scores of the identity (floor) and of the exact translation (ceiling) under the same metrics."""

    class Fixed(torch.nn.Module):
        def __init__(self, function: Any) -> None:
            super().__init__()
            self.function = function

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.function(x)

    exact_ab = Fixed(lambda x: apply_style(x, style))
    # the exact B → A map on held-out b is "the a it came from": looked up, not computed
    exact_ba = Fixed(lambda b: held_out["a"] if torch.equal(b, held_out["b"]) else apply_style(b, style))
    result = {}
    for name, (g_ab, g_ba) in {
        "identity": (torch.nn.Identity(), torch.nn.Identity()),
        "ground_truth": (exact_ab, exact_ba),
    }.items():
        probe = CycleGAN(g_ab, g_ba, model.discriminator_a, model.discriminator_b, identity_weight=0.0)
        scores = held_out_scores(probe, held_out, style)
        result[name] = {k: round(float(v), 4) for k, v in scores.items() if "cycle" not in k}
    return result


def held_out_scores(model: CycleGAN, held_out: dict[str, torch.Tensor], style: str) -> dict[str, torch.Tensor]:
    """What a validation logs for ``held_out`` (the task's cycle L1 and the styles demo's
    scores), under the names it logs them: ``val/<name>``."""
    outputs = model.held_out_outputs(held_out, 0)
    scores = {**model.held_out_diagnostics(held_out, outputs), **StyleScores(style).update(model, held_out, outputs)}
    return {f"val/{name}": value for name, value in scores.items()}


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md tables: final held-out scores beside floor and ceiling, and the trajectory."""
    final, identity, truth = results["final"], results["references"]["identity"], results["references"]["ground_truth"]

    def row(name: str, key: str, show: Any) -> str:
        both = [f"val/{key}_ab", f"val/{key}_ba"]
        floor, ceiling = " / ".join(show(identity[k]) for k in both), " / ".join(show(truth[k]) for k in both)
        return f"| {name} | {show(final[both[0]])} | {show(final[both[1]])} | {floor} | {ceiling} |"

    style = results["style"]
    lines = [
        f"| after {results['iterations']:,} iterations, all {results['held_out_digits']} held-out digits "
        f"| A→B (plain → {style}) | B→A ({style} → plain) | identity (floor) A→B / B→A "
        "| ground truth (ceiling) A→B / B→A |",
        "|---|---|---|---|---|",
        row("digit accuracy: the classifier reads the source's label", "digit_accuracy", percent),
        row("in the target style", "style", percent),
        row("L1 to the true translation", "l1", lambda v: f"{v:.3f}"),
        f"| cycle L1 (a→b→a / b→a→b) | {final['val/cycle_l1_a']:.3f} | {final['val/cycle_l1_b']:.3f} | 0 | — |",
        "",
        f"Held-out metrics at each validation ({results['validation_images_during_training']} images each); "
        f"fit {results['wall_seconds_fit']:.0f} s on {results['threads']} thread(s):",
        "",
    ]
    trajectory = results["trajectory"]
    lines.append("| iteration | " + " | ".join(str(r["step"]) for r in trajectory) + " |")
    lines.append("|---" * (len(trajectory) + 1) + "|")
    for key in ("cycle_l1", "l1_ab"):
        lines.append(f"| `val/{key}` | " + " | ".join(f"{r[f'val/{key}']:.3f}" for r in trajectory) + " |")
    accuracy = [f"{percent(r['val/digit_accuracy_ab'])} / {percent(r['val/digit_accuracy_ba'])}" for r in trajectory]
    lines.append("| `val/digit_accuracy_ab` / `_ba` | " + " | ".join(accuracy) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "cyclegan", "60 iterations, validation every 30 on 2 batches")
    add_threads(command)  # 1: on a shared machine, OpenMP spinning costs more
    add_steps(command, 1000, " (both Gs, then both Ds)")
    command.add_argument("--style", default="thick", choices=["thick", "inverted", "thick_inverted"])
    command.add_argument("--batch-size", type=int, default=8)
    command.add_argument("--val-every", type=int, default=250)
    command.add_argument("--val-batches", type=int, default=8, help="held-out batches per validation (final: all)")
    command.add_argument("--root", default=str(ROOT / "runs" / "bench_cyclegan"))
    args = finish(command.parse_args(argv), "cyclegan", {"steps": 60, "val_every": 30, "val_batches": 2})
    torch.set_num_threads(args.threads)

    cli = cli_in_process(
        CONFIGS / "cyclegan.yaml",
        f"--trainer.max_steps={args.steps}",
        f"--trainer.val_check_interval={args.val_every}",
        f"--trainer.limit_val_batches={args.val_batches}",
        "--trainer.num_sanity_val_steps=0",
        f"--data.init_args.style={args.style}",
        f"--data.init_args.batch_size={args.batch_size}",
        f"--checkpoint.every_n_train_steps={args.steps}",
        f"--samples.every_n_steps={args.val_every}",
        root=Path(args.root),
        run=False,
    )
    trajectory = Trajectory()
    cli.trainer.callbacks.append(trajectory)
    start = time.perf_counter()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    seconds = time.perf_counter() - start

    model: CycleGAN = cli.model.cpu()
    held_out = cli.datamodule.val_set.tensors  # all 500 held-out digits, each with its own styled version
    final = {k: round(float(v), 4) for k, v in held_out_scores(model, held_out, args.style).items()}
    result = {
        "command": f"python -m benchmarks.cyclegan --steps {args.steps} --style {args.style} --batch-size {args.batch_size}",
        "config": "configs/cyclegan.yaml",
        "quick": args.quick,
        "style": args.style,
        "iterations": args.steps,
        "batch_size": args.batch_size,
        "validation_images_during_training": args.val_batches * args.batch_size,
        "threads": args.threads,
        "held_out_digits": len(held_out["a"]),
        "wall_seconds_fit": round(seconds, 1),
        "date": time.strftime("%Y-%m-%d"),
        "final": final,
        "references": references(model, held_out, args.style),
        "trajectory": trajectory.rows,
        "strips": str(Path(args.root) / "samples"),
    }
    write_results(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "trajectory"}, indent=2))


if __name__ == "__main__":
    main()
