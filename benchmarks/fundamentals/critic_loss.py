"""WGAN's critic loss tracks sample quality: Arjovsky et al. 2017 (Sec. 4.2, Fig. 3-4): the
critic's loss, an estimate of the Wasserstein distance, tracks sample quality; the standard
GAN's D loss does not.

configs/wgan.yaml and configs/dcgan.yaml (plus the same val/fid metric) through the CLI in a
child process with a CSV logger; −(critic loss) and the NS D loss against val/fid.
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from benchmarks.harness import CONFIGS, fit_in_child, pyplot, save_figure

TITLE = "WGAN: the critic's loss tracks sample quality (Arjovsky et al. 2017, Fig. 3)"
FIGURE = "critic_loss.png"


CRITIC_RUNS = {
    "WGAN-GP (wgan.yaml)": ("wgan.yaml", []),
    "NS-GAN (dcgan.yaml)": (
        "dcgan.yaml",
        [
            "--model.init_args.metrics=gan_lightning.metrics.GenerativeMetrics",
            "--model.init_args.metrics.init_args.features=mnist",
            "--model.init_args.metrics.init_args.num_samples=1000",
        ],
    ),
}


def fit_with_csv(config: str, overrides: list[str], steps: int, val_every: int, root: Path) -> list[dict]:
    """``lightning fit --config configs/<config>`` in a child process with a CSV logger, one
    thread: its metrics.csv rows."""
    csv_logger = [
        "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
        f"--trainer.logger.init_args.save_dir={root}",
        f"--trainer.logger.init_args.name={Path(config).stem}",
    ]
    schedule = [
        f"--trainer.max_steps={steps}",
        f"--trainer.val_check_interval={val_every}",
        "--trainer.log_every_n_steps=10",
        f"--checkpoint.every_n_train_steps={steps}",
    ]
    child, run = fit_in_child(CONFIGS / config, [*overrides, *schedule, *csv_logger], root, threads=1)
    child.check()
    assert run is not None, f"no run folder under {root}"
    return list(csv.DictReader((run / "metrics.csv").open()))


def series(rows: list[dict], key: str) -> list[tuple[int, float]]:
    return [(int(row["step"]), float(row[key])) for row in rows if row.get(key)]


def ranks(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)


def correlations(x: list[float], y: list[float]) -> dict[str, float]:
    x_, y_ = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return {
        "pearson": float(np.corrcoef(x_, y_)[0, 1]),
        "spearman": float(np.corrcoef(ranks(x_), ranks(y_))[0, 1]),
    }


def measure(quick: bool) -> dict:
    steps, val_every = (200, 50) if quick else (1500, 100)
    runs = {}
    for name, (config, overrides) in tqdm(CRITIC_RUNS.items(), desc="critic_loss runs"):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            rows = fit_with_csv(config, overrides, steps, val_every, Path(folder))
            seconds = time.perf_counter() - start
        train_loss = series(rows, "train/d_loss")
        fid = series(rows, "val/fid")
        val_loss = dict(series(rows, "val/d_loss"))
        # The training loss is one batch's: its median over the window since the previous validation.
        windowed = [float(np.median([v for s, v in train_loss if step - val_every < s <= step])) for step, _ in fid]
        points = [
            {"step": step, "fid": value, "neg_train_d_loss": -w, "neg_val_d_loss": -val_loss[step]}
            for (step, value), w in zip(fid, windowed, strict=True)
        ]
        runs[name] = {
            "config": config,
            "seconds": seconds,
            "train_d_loss": train_loss,
            "points": points,
            "train_vs_fid": correlations([p["neg_train_d_loss"] for p in points], [p["fid"] for p in points]),
            "val_vs_fid": correlations([p["neg_val_d_loss"] for p in points], [p["fid"] for p in points]),
        }
    return {"steps": steps, "val_every": val_every, "threads": 1, "runs": runs}


def plot(result: dict, path: Path) -> None:
    plt = pyplot()
    runs = result["runs"]
    figure, axes = plt.subplots(2, len(runs), figsize=(12, 7))
    for column, (name, run) in enumerate(runs.items()):
        top = axes[0, column]
        steps, losses = zip(*run["train_d_loss"], strict=True)
        top.plot(steps, -np.array(losses), color="tab:blue", alpha=0.25, linewidth=0.7, label="−D loss (one batch)")
        points = run["points"]
        fid_steps = [p["step"] for p in points]
        top.plot(
            fid_steps, [p["neg_train_d_loss"] for p in points], color="tab:blue", marker=".", label="−D loss (median)"
        )
        top.plot(
            fid_steps, [p["neg_val_d_loss"] for p in points], color="tab:cyan", marker=".", label="−D loss (held out)"
        )
        top.set(xlabel="iteration", ylabel="−(D loss)", title=name)
        top.legend(fontsize=7, loc="upper right")
        right = top.twinx()
        right.plot(fid_steps, [p["fid"] for p in points], color="tab:red", marker="o", markersize=3, label="val/fid")
        right.set_ylabel("val/fid (MNIST features)", color="tab:red")
        bottom = axes[1, column]
        scatter = bottom.scatter(
            [p["neg_train_d_loss"] for p in points], [p["fid"] for p in points], c=fid_steps, cmap="viridis", s=20
        )
        r = run["train_vs_fid"]
        bottom.set(
            xlabel="−(D loss), median since the previous validation",
            ylabel="val/fid",
            title=f"Pearson {r['pearson']:.2f}, Spearman {r['spearman']:.2f}",
        )
        bottom.grid(alpha=0.3)
        figure.colorbar(scatter, ax=bottom, label="iteration")
    figure.tight_layout()
    save_figure(figure, path)


def late_correlation(points: list[dict]) -> dict[str, float]:
    """corr(−D loss, FID) over the last two thirds of the validations: past the first
    few hundred iterations, where every quantity of any run moves with FID."""
    late = points[len(points) // 3 :]
    return correlations([p["neg_train_d_loss"] for p in late], [p["fid"] for p in late])


def table(result: dict) -> str:
    lines = [
        "| run | FID first → last | −D loss first → last (median) | corr(−D loss, FID) Pearson / Spearman "
        "| same, last ⅔ of the run | same, held-out D loss | wall time |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in result["runs"].items():
        points = run["points"]
        t, v, late = run["train_vs_fid"], run["val_vs_fid"], late_correlation(points)
        lines.append(
            f"| {name} | {points[0]['fid']:.1f} → {points[-1]['fid']:.1f} "
            f"| {points[0]['neg_train_d_loss']:.3f} → {points[-1]['neg_train_d_loss']:.3f} "
            f"| **{t['pearson']:.2f} / {t['spearman']:.2f}** | **{late['pearson']:.2f} / {late['spearman']:.2f}** "
            f"| {v['pearson']:.2f} / {v['spearman']:.2f} | {run['seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)
