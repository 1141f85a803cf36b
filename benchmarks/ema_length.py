"""Does a longer moving average of G lift the main job's precision? ``configs/wgan.yaml`` trained
once, with extra averages of its generator kept beside the config's own (same updates, other
half-lives), each written as a checkpoint at the end and scored by ``gan-lightning evaluate``.

    python -m benchmarks.ema_length --seed 0           # the config's 10,000 iterations (~40 CPU-min)
    python -m benchmarks.ema_length --quick            # 200 iterations, 500 samples: the plumbing

Why one run: the average costs no training compute (the "precision" row of "Generators that
obey" allows no more than today's run), and every half-life then sees the same raw generator, so
the rows differ by the average alone. ``last.ckpt`` holds the config's own average (``ema_kimg``
10 by default): its row must match a plain run of the same seed, which checks that the extra
averages changed nothing else. Half-lives are in thousands of images, as ``ema_kimg``; the run
sees 640 kimg (10,000 iterations of 64).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from torch import nn

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_keep,
    add_threads,
    finish,
    fit_in_child,
    parser,
    write_results,
)
from benchmarks.truncation import METRICS, score, score_cells
from gan_lightning.training import ema_beta, update_ema

CONFIG = CONFIGS / "wgan.yaml"
HALF_LIVES_KIMG = [20.0, 50.0, 150.0]
#: The extra averages' ramp-up: half-life ≤ this share of the images seen. The task's 0.05
#: (stylegan2-ada's) caps every half-life at 32 kimg by the end of 640 kimg, so longer ones
#: would all be the same average; 0.5 lets 150 kimg hold for the second half of the run.
RAMPUP = 0.5
QUICK_STEPS = 200


class ExtraAverages(pl.Callback):
    """Keeps a moving average of the task's ``generator`` per half-life (kimg) and, when
    training ends, writes the run's checkpoint once per average, with it as ``generator_ema``
    (``ema_<k>kimg.ckpt`` beside ``last.ckpt``). Updated after every iteration from the
    images of one generator batch (the data module's ``batch_size``, over all processes), the
    half-life capped at ``rampup`` × images seen (:func:`~gan_lightning.training.ema_beta`)."""

    def __init__(self, half_lives_kimg: list[float], rampup: float | None = RAMPUP) -> None:
        if not half_lives_kimg or min(half_lives_kimg) <= 0:
            raise ValueError(f"half_lives_kimg must be positive numbers of kimg, got {half_lives_kimg}.")
        self.half_lives_kimg, self.rampup = list(half_lives_kimg), rampup
        self.averages: dict[float, nn.Module] = {}

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.averages = {
            k: copy.deepcopy(pl_module.generator).eval().requires_grad_(False) for k in self.half_lives_kimg
        }

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        images = pl_module.images_per_iteration(trainer.datamodule.batch_size)  # over all processes
        seen = images * trainer.global_step  # the task's own clock (iterations done, this one included)
        for kimg, average in self.averages.items():
            update_ema(average, pl_module.generator, ema_beta(seen, images, kimg, self.rampup))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        folder = Path(trainer.checkpoint_callback.dirpath)
        own = copy.deepcopy(pl_module.generator_ema.state_dict())
        for kimg, average in self.averages.items():
            pl_module.generator_ema.load_state_dict(average.state_dict())
            trainer.save_checkpoint(folder / f"ema_{kimg:g}kimg.ckpt")
        pl_module.generator_ema.load_state_dict(own)


def measure(args: Any) -> dict[str, Any]:
    root = Path(args.keep or tempfile.mkdtemp(prefix="ema_length_"))
    overrides = [f"--trainer.logger.init_args.save_dir={root}", f"--seed_everything={args.seed}"]
    overrides += [] if args.steps is None else [f"--trainer.max_steps={args.steps}"]
    overrides += [
        "--trainer.callbacks+=benchmarks.ema_length.ExtraAverages",
        f"--trainer.callbacks.half_lives_kimg=[{', '.join(f'{k:g}' for k in args.half_lives)}]",
        f"--trainer.callbacks.rampup={args.rampup}",
    ]
    fit, run = fit_in_child(CONFIG, overrides, root, args.threads)
    fit.check()
    assert run is not None, f"no run folder under {root}"
    checkpoints = [("config", run / "checkpoints" / "last.ckpt")]
    checkpoints += [(f"{k:g}", run / "checkpoints" / f"ema_{k:g}kimg.ckpt") for k in args.half_lives]
    rows = []
    for name, checkpoint in checkpoints:
        rows.append(
            {"half_life_kimg": name} | score(checkpoint, [], args.samples, root / f"ema_{name}.json", args.threads)
        )
        print(f"{name}: " + ", ".join(f"{key} {rows[-1][key]['value']:.3f}" for key in METRICS), flush=True)
    settings = {"seed": args.seed, "steps": args.steps, "samples": args.samples, "rampup": args.rampup}
    return settings | {"run": str(run), "rows": rows}


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: one row per half-life, the floors in the header."""
    floors = results["rows"][0]
    lines = [
        f"Seed {results['seed']}; extra averages' ramp-up {results['rampup']:g}; {results['samples']:,} samples of each average, 500 held-out digits; floors "
        f"(real vs real): FID {floors['fid']['floor']:.3f}, precision {floors['precision']['floor']:.3f}, "
        f"recall {floors['recall']['floor']:.3f}.",
        "",
        "| G's moving average, half-life | FID | FID / floor | precision | recall | modes covered | class KL |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["rows"]:
        name = "the config's (`last.ckpt`)" if row["half_life_kimg"] == "config" else f"{row['half_life_kimg']} kimg"
        lines.append(f"| {name} | {score_cells(row)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "ema_length", f"{QUICK_STEPS} iterations, 500 samples")
    add_threads(command, None)
    add_keep(command, "the run")
    command.add_argument("--seed", type=int, default=0, help="seed_everything (default 0, the config's)")
    command.add_argument("--steps", type=int, default=None, help="training iterations (default: the config's)")
    command.add_argument("--samples", type=int, default=2000, help="generated images scored per average")
    command.add_argument("--half-lives", type=float, nargs="+", default=HALF_LIVES_KIMG, help="extra half-lives, kimg")
    command.add_argument("--rampup", type=float, default=RAMPUP, help="extra averages' ramp-up (share of images seen)")
    args = finish(command.parse_args(argv), "ema_length", {"steps": QUICK_STEPS, "samples": 500})
    results = {"quick": args.quick} | measure(args)
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
