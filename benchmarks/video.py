"""MoCoGAN on Moving MNIST from MNIST-5k (one 20-px digit on 32×32, 16 frames): train
configs/video.yaml on the CPU, then score the final generator against held-out real clips.

    python -m benchmarks.video                    # the config's max_steps, ~12 min on 1 core
    python -m benchmarks.video --quick            # 120 iterations, 128 clips: ~1-2 min

Reported (benchmarks/results/video.json), generated clips against held-out real clips
(``--clips`` of each, every frame scored):

* per-frame FID (shipped MNIST classifier features of whole frames) beside its floor: held-out
  real clips against as many *training* clips (made from other digits);
* digit consistency (fraction of a clip's frames read as its majority digit) and the
  classifier's mean confidence;
* motion: mean frame-to-frame displacement of the ink's centre of mass (mean ± sd over
  clips) and the fraction of static clips (< 0.25 px per frame).
"""

from __future__ import annotations

import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import default_collate

from benchmarks.harness import (
    CONFIGS,
    add_common_flags,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    parser,
    results_file,
    shown,
    write_results,
)
from gan_lightning.metrics.video import frame_fid
from gan_lightning.mnist import clip_statistics

CONFIG = CONFIGS / "video.yaml"


def real_clips(dataset: torch.utils.data.Dataset, count: int) -> torch.Tensor:
    return default_collate([dataset[i] for i in range(count)])["video"]


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table: generated clips beside the held-out real clips."""
    fake, real = results["generated"], results["real"]

    def motion(stats: dict[str, float]) -> str:
        return f"{stats['motion_mean']:.2f} ± {stats['motion_sd']:.2f}"

    return "\n".join(
        [
            f"| `{results['config']}` | generated | real (held-out) |",
            "|---|---|---|",
            f"| per-frame FID (floor: held-out vs {results['clips_scored']} training clips) "
            f"| {results['frame_fid']:.2f} | floor {results['frame_fid_floor']:.3f} |",
            f"| digit consistency (frames agreeing with the clip's majority digit) "
            f"| {fake['consistency']:.2f} | {real['consistency']:.2f} |",
            f"| classifier confidence (mean top probability) | {fake['confidence']:.2f} | {real['confidence']:.2f} |",
            f"| motion, px/frame (mean ± sd over clips) | {motion(fake)} | {motion(real)} |",
            f"| static clips (< 0.25 px/frame) | {100 * fake['static_fraction']:.0f} % "
            f"| {100 * real['static_fraction']:.0f} % |",
            f"| training time ({results['iterations']:,} iterations) | {results['train_seconds']:.0f} s | |",
            "",
            f"{results['clips_scored']} generated and {results['clips_scored']} held-out clips "
            f"({results['frames_scored']:,} frames each); {results['machine']}.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "video", "120 iterations, 128 clips scored")
    add_threads(command)
    add_steps(command, None, " (default: the config's)")
    command.add_argument("--config", type=Path, default=CONFIG, help="default: configs/video.yaml")
    command.add_argument("--clips", type=int, default=512, help="generated and real clips scored")
    command.add_argument("--run-dir", type=Path, default=None, help="keep the run (samples, checkpoints) here")
    command.add_argument("--seed", type=int, default=None, help="seed_everything (default: the config's)")
    args = finish(command.parse_args(argv), "video", {"steps": 120, "clips": 128})
    torch.set_num_threads(args.threads)
    folder = args.run_dir or Path(tempfile.mkdtemp(prefix="video_bench_"))
    start = time.perf_counter()
    steps = [] if args.steps is None else [f"--trainer.max_steps={args.steps}"]
    seed = [] if args.seed is None else [f"--seed_everything={args.seed}"]
    cli = cli_in_process(args.config, *steps, *seed, root=folder)
    train_seconds = time.perf_counter() - start
    model, data = cli.model.eval(), cli.datamodule
    digit_size = data.digit_size

    held_out = real_clips(data.val_set, args.clips)
    training = real_clips(data.train_set, args.clips)
    fake = torch.cat(
        [
            model.sample(min(64, args.clips - i), generator=torch.Generator().manual_seed(1000 + i))
            for i in range(0, args.clips, 64)
        ]
    )
    fake_stats = clip_statistics(fake, digit_size).as_dict()
    real_stats = clip_statistics(held_out, digit_size).as_dict()
    result = {
        "command": "python -m benchmarks.video"
        + (f" --config {shown(args.config)}" if args.config != CONFIG else "")
        + (" --quick" if args.quick else f" --steps {args.steps}" if args.steps else "")
        + (f" --seed {args.seed}" if args.seed is not None else "")
        + (f" --out {shown(args.out)}" if args.out.resolve() != results_file("video", args.quick) else ""),
        "config": shown(args.config),
        "quick": args.quick,
        "data": {
            "canvas": data.canvas,
            "digit_size": digit_size,
            "num_frames": data.num_frames,
            "num_digits": data.num_digits,
            "speed_px_per_frame": list(data.speed),
        },
        "seed": args.seed,
        "iterations": cli.trainer.global_step,
        "batch_size_clips": data.batch_size,
        "train_seconds": round(train_seconds, 1),
        "clips_scored": args.clips,
        "frames_scored": args.clips * data.num_frames,
        "frame_fid": frame_fid(held_out, fake),
        "frame_fid_floor": frame_fid(held_out, training),
        "generated": fake_stats,
        "real": real_stats,
        "ema_kimg": model.ema_kimg,
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {args.threads} thread(s)",
    }
    write_results(args.out, result)
    print(report(result))


if __name__ == "__main__":
    main()
