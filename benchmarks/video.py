"""MoCoGAN on Moving MNIST from MNIST-5k (one 20-px digit on 32×32, 16 frames): train
configs/video.yaml on the CPU, then score the final generator against held-out real clips.

    PYTHONPATH=. python benchmarks/video.py                    # the config's max_steps, ~12 min on 1 core
    PYTHONPATH=. python benchmarks/video.py --quick            # 120 iterations, 128 clips: ~1-2 min

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

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import default_collate

from gan_lightning.cli import GANLightningCLI
from gan_lightning.metrics.video import clip_statistics, frame_fid

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "video.yaml"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "video.json"


def config_name(path: Path) -> str:
    """``path`` relative to the repository when inside it (for the recorded command)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def train(config: Path, max_steps: int | None, folder: Path) -> GANLightningCLI:
    args = ["fit", "--config", str(config), "--trainer.accelerator=cpu", "--trainer.logger=false"]
    args += ["--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={folder}"]
    args.append("--trainer.callbacks+=gan_lightning.callbacks.IterationProgressBar")
    if max_steps is not None:
        args.append(f"--trainer.max_steps={max_steps}")
    return GANLightningCLI(args=args)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=CONFIG, help="default: configs/video.yaml")
    parser.add_argument("--max-steps", type=int, default=None, help="default: the config's")
    parser.add_argument("--clips", type=int, default=512, help="generated and real clips scored")
    parser.add_argument("--quick", action="store_true", help="120 iterations, 128 clips scored")
    parser.add_argument("--out", type=Path, default=None, help="default: benchmarks/results/video[_quick].json")
    parser.add_argument("--run-dir", type=Path, default=None, help="keep the run (samples, checkpoints) here")
    args = parser.parse_args()
    if args.quick:
        args.max_steps, args.clips = 120, 128
    args.out = args.out or (DEFAULT_OUT.with_name("video_quick.json") if args.quick else DEFAULT_OUT)
    torch.set_num_threads(1)
    folder = args.run_dir or Path(tempfile.mkdtemp(prefix="video_bench_"))
    start = time.perf_counter()
    cli = train(args.config, args.max_steps, folder)
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
        "command": "PYTHONPATH=. python benchmarks/video.py"
        + (f" --config {config_name(args.config)}" if args.config != CONFIG else "")
        + (" --quick" if args.quick else f" --max-steps {args.max_steps}" if args.max_steps else "")
        + (f" --out {config_name(args.out)}" if args.out != DEFAULT_OUT else ""),
        "config": config_name(args.config),
        "quick": args.quick,
        "data": {
            "canvas": data.canvas,
            "digit_size": digit_size,
            "num_frames": data.num_frames,
            "num_digits": data.num_digits,
            "speed_px_per_frame": list(data.speed),
        },
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
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
