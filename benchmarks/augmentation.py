"""GANs as data augmentation: does a class-conditional GAN's synthetic data help a classifier?

For each number of labels per class and each seed: train configs/augmentation.yaml on that
labelled subset of MNIST-5k, export labelled samples with ``gan-lightning sample --labels
balanced``, train the same small classifier on real only, synthetic only (the
Classification Accuracy Score, Ravuri & Vinyals 2019) and real + synthetic with
``gan-lightning cas``, and test each on the 500 held-out real digits (the same for every run;
neither the GAN nor a classifier trains on them). Real + synthetic is trained at each of
``--real-fractions`` (the share of real images per batch: 0.5 and 0.9 by default). The
samples are read by the shipped digit reader and by a second reader of another architecture
that the benchmark trains on the training digits (AllConvReader, below). One command
reruns the whole study:

    python -m benchmarks.augmentation            # 3 label counts x 3 seeds: ~110 CPU-minutes
    python -m benchmarks.augmentation --quick    # 1 label count x 2 seeds, small: ~1 min

Side by side (one process per label count, one thread each), then pooled:

    python -m benchmarks.augmentation --labels-per-class 50 --out k50.json    # and 100, 400
    python -m benchmarks.augmentation --merge k50.json k100.json k400.json

``--label-source semi_supervised`` gives the cGAN every training digit instead of the labelled
ones alone (Triple-GAN's route, Li et al. 2017): a semi-supervised GAN
(configs/semi_supervised_conv.yaml) trains first on the same k labels per class and the other
digits unlabelled, and its classifier labels those others
(``--data.init_args.pseudo_labels``, :mod:`gan_lightning.mnist.pseudo_labels`). The real-only
and real + synthetic classifiers still see only the k labelled digits per class. Results go to
benchmarks/results/augmentation_ssl.json:

    python -m benchmarks.augmentation --label-source semi_supervised --labels-per-class 50

Writes benchmarks/results/augmentation.json (every run and the mean ± standard error over
seeds), the last sample grid of each label count's first seed as
benchmarks/results/augmentation_k<labels>.png, and prints the Markdown table of BENCHMARKS.md.
MNIST-5k keeps at least 433 digits of every class after the 500 held out, so the largest
label count is 400 (not 500).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from benchmarks.harness import (
    CONFIGS,
    MeanSE,
    add_common_flags,
    add_keep,
    add_seeds,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    format_mean_se,
    mean_and_stderr,
    parser,
    write_results,
)

CONFIG = CONFIGS / "augmentation.yaml"
METRICS = ("real", "synthetic", "real+synthetic", "gain", "synthetic_read_as_label", "synthetic_read_by_second_reader")
#: Where the cGAN's labels come from: the labelled digits alone, or those and the rest labelled
#: by a semi-supervised GAN trained first (:data:`SSL_CONFIG`).
LABEL_SOURCES = ("labelled", "semi_supervised")
SSL_CONFIG = CONFIGS / "semi_supervised_conv.yaml"
#: Readings of the label source, per run (only under ``--label-source semi_supervised``).
SSL_METRICS = ("ssl_accuracy", "pseudo_label_accuracy", "ssl_seconds")


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, MeanSE]]:
    """Per label count: mean ± s.e. over seeds of each metric and of the GAN's training time."""
    summary: dict[str, dict[str, MeanSE]] = {}
    for labels in sorted({run["labels_per_class"] for run in runs}):
        group = [run for run in runs if run["labels_per_class"] == labels]
        mixed = sorted({name for run in group for name in run if "@" in name})  # other mixing ratios
        names = [name for name in (*METRICS, *mixed, *SSL_METRICS, "gan_seconds") if all(name in run for run in group)]
        summary[str(labels)] = {name: mean_and_stderr([run[name] for run in group]) for name in names}
    return summary


def percent(stat: MeanSE, signed: bool = False) -> str:
    return format_mean_se(stat, scale=100, signed=signed)


def markdown_table(summary: dict[str, dict[str, MeanSE]], iterations: int) -> str:
    """The BENCHMARKS.md table: accuracies on the held-out real digits in %, mean ± s.e. Columns
    for other mixing ratios (``gain@F``) and the second reader appear when the runs have them."""
    first = next(iter(summary.values()), {})
    fractions = [name.removeprefix("gain@") for name in first if name.startswith("gain@")]
    second = "synthetic_read_by_second_reader" in first
    header = ["labels/class", "real only", "CAS (synthetic only)", "real + synthetic", "gain"]
    for fraction in fractions:
        header += [f"real + synthetic, {float(fraction):.0%} real", f"gain ({float(fraction):.0%} real)"]
    header += ["synthetic read as their label"] + (["… by the second reader"] if second else [])
    ssl = "ssl_accuracy" in first
    if ssl:
        header += ["SSL classifier, held out", "pseudo-labels right", "SSL seconds"]
    header += [f"cGAN ({iterations} it.) seconds", "seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for labels, stats in summary.items():
        cells = [labels, percent(stats["real"]), percent(stats["synthetic"]), percent(stats["real+synthetic"])]
        cells.append(f"**{percent(stats['gain'], signed=True)}**")
        for fraction in fractions:
            cells += [
                percent(stats[f"real+synthetic@{fraction}"]),
                f"**{percent(stats[f'gain@{fraction}'], signed=True)}**",
            ]
        for name in ("synthetic_read_as_label", "synthetic_read_by_second_reader")[: 1 + second]:
            cells.append(percent(stats[name]) if name in stats else "—")
        if ssl:
            cells += [percent(stats["ssl_accuracy"]), percent(stats["pseudo_label_accuracy"])]
            cells.append(f"{stats['ssl_seconds']['mean']:.0f}")
        cells += [f"{stats['gan_seconds']['mean']:.0f}", str(stats["real"]["n"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def study_name(label_source: str) -> str:
    """The results' name: ``augmentation``, or ``augmentation_ssl`` for the pseudo-labelled cGAN."""
    return "augmentation" if label_source == "labelled" else "augmentation_ssl"


def grid_name(labels: int, quick: bool, label_source: str = "labelled") -> str:
    """The sample grid kept for a label count (its first seed), beside the results."""
    return f"{study_name(label_source)}{'_quick' if quick else ''}_k{labels}.png"


def report(results: dict[str, Any]) -> str:
    """The BENCHMARKS.md table and the sample grids (one class per column)."""
    quick, source = results.get("quick", False), results.get("label_source", "labelled")
    grids = " ".join(
        f"![k={labels}](benchmarks/results/{grid_name(int(labels), quick, source)})" for labels in results["summary"]
    )
    return (
        "Accuracies on the held-out real digits, in %, mean ± standard error over seeds:\n\n"
        + markdown_table(results["summary"], results["gan_iterations"])
        + f"\n\nSample grids of the first seed, labels/class {', '.join(results['summary'])} (one class per column):"
        + f"\n\n{grids}\n\nTotal {results['total_seconds']:.0f} s, {results['threads']} thread(s)."
    )


def train_gan(
    labels: int, seed: int, steps: int, folder: Path, config: Path = CONFIG, overrides: tuple[str, ...] = ()
) -> tuple[Path, float, int, float | None]:
    """``config`` (plus ``lightning fit`` ``overrides``) on ``labels`` digits per class; (run
    folder, seconds, iterations, how often its pseudo-labels were right: None without them)."""
    start = time.perf_counter()
    cli = cli_in_process(
        config,
        f"--data.init_args.labels_per_class={labels}",
        f"--data.init_args.labels_seed={seed}",
        f"--seed_everything={seed}",
        f"--trainer.max_steps={steps}",
        f"--samples.every_n_steps={steps}",
        "--checkpoint.every_n_train_steps=null",
        *overrides,
        root=folder,
    )
    seconds = time.perf_counter() - start
    return folder, seconds, cli.trainer.global_step, getattr(cli.datamodule, "pseudo_label_accuracy", None)


# ---- the second digit reader ----
# A second digit reader, of another architecture than the shipped one, trained here.
#
# "Synthetic digits read as their label" should not rest on one classifier: a generator can
# learn to please the features of one network. The shipped reader
# (:mod:`gan_lightning.mnist.classifier`) is a small max-pooling CNN; this one is an
# all-convolutional network with batch norm and global average pooling (Springenberg et al.
# 2015's "all convolutional net", smaller), trained by the benchmark on the 4,500 MNIST-5k
# training digits with every label (random ±2 px shifts), never on the 500 held-out digits it
# reports its accuracy on. Seeded: the same seed trains the same reader.

Labelled = tuple[Tensor, Tensor]


def conv_block(inputs: int, outputs: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU())


class AllConvReader(nn.Module):
    """Five 3×3 conv + batch-norm layers (strided convs instead of pooling), global average
    pooling, a linear head: ~100k parameters for 28-px digits."""

    def __init__(self, channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.net = nn.Sequential(
            conv_block(channels, 32),
            conv_block(32, 32, stride=2),  # 14
            conv_block(32, 64),
            conv_block(64, 64, stride=2),  # 7
            conv_block(64, 96),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(96, num_classes),
        )

    def forward(self, images: Tensor) -> Tensor:
        return self.net(images)


def shifted(images: Tensor, generator: torch.Generator, pixels: int = 2) -> Tensor:
    """Each image moved by a random whole-pixel shift in [-pixels, pixels] per axis (zero-padded
    with the background value -1)."""
    size = images.shape[-1]
    padded = F.pad(images, (pixels,) * 4, value=-1.0)
    offsets = torch.randint(0, 2 * pixels + 1, (len(images), 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + size, dx : dx + size] for i, (dy, dx) in enumerate(offsets.tolist())])


def train_second_reader(train: Labelled, seed: int = 0, steps: int = 1500, batch_size: int = 64) -> AllConvReader:
    """:class:`AllConvReader` trained ``steps`` Adam steps on ``train`` (images in [-1, 1])."""
    images, labels = train
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = AllConvReader(images.shape[1], int(labels.max()) + 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(labels), (batch_size,), generator=generator)
        loss = F.cross_entropy(model(shifted(images[index], generator)), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return model.eval()


class ShippedReader(torch.nn.Module):
    """The shipped MNIST classifier's logits (its ``extract`` gives features and logits)."""

    def __init__(self) -> None:
        super().__init__()
        from gan_lightning.mnist.classifier import shipped_digit_reader

        self.reader = shipped_digit_reader("cpu")

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _, logits = self.reader.extract(images)
        assert logits is not None
        return logits


def build_readers(seed: int, steps: int) -> tuple[dict[str, torch.nn.Module], float]:
    """The shipped reader and a second one of another architecture trained now on the 4,500
    training digits (every label, never the held-out ones); and the second's held-out accuracy."""
    from gan_lightning.mnist import MNIST5kDataModule
    from gan_lightning.synthetic import accuracy

    data = MNIST5kDataModule(batch_size=1)
    data.setup()
    second = train_second_reader(data.train_set.tensors, seed, steps)
    return {"shipped": ShippedReader(), "second": second}, accuracy(second, *data.val_set.tensors)


def one_run(
    labels: int, seed: int, args: argparse.Namespace, work: Path, readers: dict[str, torch.nn.Module]
) -> dict[str, Any]:
    from gan_lightning.commands import cas, sample
    from gan_lightning.synthetic import (
        ClassifierRecipe,
        accuracy,
        classification_accuracy_scores,
        read_labelled_images,
    )

    overrides, source_readings = tuple(args.override), {}
    if args.label_source == "semi_supervised":
        checkpoint, source_readings = train_label_source(labels, seed, args.ssl_steps, work / f"ssl_k{labels}_s{seed}")
        overrides += (f"--data.init_args.pseudo_labels={checkpoint}",)
    run, seconds, iterations, pseudo_accuracy = train_gan(
        labels, seed, args.steps, work / f"k{labels}_s{seed}", args.config, overrides
    )
    if source_readings:
        source_readings["pseudo_label_accuracy"] = pseudo_accuracy
    synthetic = run / "synthetic"
    checkpoint = str(run / "checkpoints" / "last.ckpt")
    labelled = ["--num-images", str(args.num_synthetic), "--labels", "balanced", "--seed", str(seed)]
    labelled += ["--keep-classified"] if args.keep_classified else []
    sample.main([checkpoint, "--out", str(synthetic), *labelled, "--grid-size", "0", "--interpolations", "0"])
    scores_file = run / "cas.json"
    real_data = ["--config", str(run / "config.yaml")]  # the GAN's labelled subset and held-out split
    main_fraction, *other_fractions = args.real_fractions
    recipe = ["--steps", str(args.classifier_steps), "--seed", str(seed), "--real-fraction", str(main_fraction)]
    cas.main(["--synthetic", str(synthetic), *real_data, *recipe, "--json", str(scores_file)])
    record = json.loads(scores_file.read_text())
    scores = dict(record["scores"])
    synthetic_set = read_labelled_images(synthetic)  # once, for the extra mixes and both readers
    if other_fractions:  # only the mixed classifier again: real-only and CAS do not depend on the ratio
        real, test, num_classes = cas.real_splits(argparse.Namespace(config=run / "config.yaml"))
        for fraction in other_fractions:
            mixed = ClassifierRecipe(args.classifier_steps, real_fraction=fraction)
            only = classification_accuracy_scores(
                real, synthetic_set, test, mixed, seed, num_classes, training_sets=("real+synthetic",)
            )
            scores[f"real+synthetic@{fraction}"] = only["real+synthetic"]
            scores[f"gain@{fraction}"] = only["real+synthetic"] - scores["real"]
    if seed == args.seeds[0]:
        grid = run / "samples" / f"step_{iterations:07d}.png"
        if grid.is_file():
            shutil.copy(grid, args.out.parent / grid_name(labels, args.quick, args.label_source))
    read = {name: accuracy(reader, *synthetic_set) for name, reader in readers.items()}
    return {
        "labels_per_class": labels,
        "seed": seed,
        **scores,
        "synthetic_read_as_label": read["shipped"],
        "synthetic_read_by_second_reader": read["second"],
        "real_images": record["real"],
        "synthetic_images": record["synthetic"],
        "test_images": record["test"],
        "gan_iterations": iterations,
        "gan_seconds": round(seconds, 1),
        **source_readings,
    }


def train_label_source(labels: int, seed: int, steps: int, folder: Path) -> tuple[Path, dict[str, float]]:
    """The semi-supervised GAN on ``labels`` digits per class (the rest unlabelled): its last
    checkpoint, its held-out accuracy and training seconds."""
    from benchmarks.semi_supervised import train_semi_supervised

    accuracy, seconds = train_semi_supervised(SSL_CONFIG, labels, seed, steps, folder)
    return folder / "checkpoints" / "last.ckpt", {"ssl_accuracy": accuracy, "ssl_seconds": round(seconds, 1)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    command = parser(__doc__)
    add_common_flags(command, "augmentation", "50 labels/class, 2 seeds, 200 it., 1000 samples")
    add_threads(command)
    add_seeds(command, [0, 1, 2])
    add_steps(command, 6000, " of the cGAN (configs/augmentation.yaml's max_steps)")
    command.add_argument("--labels-per-class", type=int, nargs="+", default=[50, 100, 400])
    command.add_argument("--num-synthetic", type=int, default=5000, help="labelled samples exported per run")
    command.add_argument("--classifier-steps", type=int, default=300)
    command.add_argument("--reader-steps", type=int, default=1500, help="training steps of the second reader")
    command.add_argument(
        "--real-fractions",
        type=float,
        nargs="+",
        default=[0.5, 0.9],
        help="shares of real images per mixed batch: the first is the table's main column, the others added",
    )
    command.add_argument("--config", type=Path, default=CONFIG, help="the class-conditional GAN's config")
    command.add_argument(
        "--override", action="append", default=[], help="a `lightning fit` flag for the GAN (repeatable)"
    )
    command.add_argument(
        "--label-source",
        choices=LABEL_SOURCES,
        default="labelled",
        help="the cGAN's labels: the labelled digits alone, or every digit labelled by a semi-supervised GAN",
    )
    command.add_argument(
        "--ssl-steps", type=int, default=None, help="iterations of the semi-supervised GAN (default: its config's)"
    )
    add_keep(command, "the GAN runs and their exports")
    command.add_argument(
        "--merge", type=Path, nargs="+", help="pool these results files (e.g. one label count each) into --out"
    )
    command.add_argument(
        "--keep-classified", action="store_true", help="export with sample --keep-classified (AC-GAN's own filter)"
    )
    quick = {
        "labels_per_class": [50],
        "seeds": [0, 1],
        "steps": 200,
        "num_synthetic": 1000,
        "classifier_steps": 100,
        "reader_steps": 100,
        "ssl_steps": 50,
    }
    args = command.parse_args(argv)
    args = finish(args, study_name(args.label_source), quick)
    if args.label_source == "semi_supervised" and args.ssl_steps is None and not args.merge:
        from benchmarks.semi_supervised import resolved_config  # a CLI build: only for runs that train

        args.ssl_steps = int(resolved_config(SSL_CONFIG)["trainer"]["max_steps"])
    return args


#: Settings that must agree between results files pooled by ``--merge``.
SHARED_SETTINGS = (
    "quick",
    "config",
    "gan_iterations",
    "synthetic_per_run",
    "classifier",
    "real_fractions",
    "label_source",
    "ssl_iterations",
)


def merge(files: list[Path]) -> dict[str, Any]:
    """One results record from several written with the same settings (e.g. one label count
    per process, run side by side): runs pooled, summary recomputed, seconds added up."""
    parts = [json.loads(path.read_text()) for path in files]
    for name in SHARED_SETTINGS:
        values = {json.dumps(part.get(name)) for part in parts}
        if len(values) > 1:
            raise SystemExit(f"--merge: the files disagree on {name} ({', '.join(sorted(values))}): rerun them alike.")
    runs = sorted((run for part in parts for run in part["runs"]), key=lambda r: (r["labels_per_class"], r["seed"]))
    return {
        **parts[0],
        "command": f"{parts[0]['command']} in {len(parts)} processes side by side, pooled with --merge",
        "merged_from": [path.name for path in files],
        "total_seconds": round(sum(part["total_seconds"] for part in parts), 1),
        "summary": summarize(runs),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.merge:
        results = merge(args.merge)
        write_results(args.out, results)
        print(report(results))
        return
    command = "python -m benchmarks.augmentation" + (" --quick" if args.quick else "")
    if args.label_source != "labelled":
        command += f" --label-source {args.label_source}"
    start = time.perf_counter()
    runs = []
    jobs = [(labels, seed) for labels in args.labels_per_class for seed in args.seeds]
    readers, second_reader_accuracy = build_readers(0, args.reader_steps)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        for labels, seed in tqdm(jobs, desc="augmentation runs", unit="run", dynamic_ncols=True):
            runs.append(one_run(labels, seed, args, folder, readers))
            tqdm.write(json.dumps(runs[-1]))
    summary = summarize(runs)
    results = {
        "command": command,
        "quick": args.quick,
        "config": f"{args.config.name}"
        + (
            " (AC-GAN: conditional DCGAN G, DCGAN D with projection + auxiliary classifier, hinge, MNIST-5k 28 px)"
            if args.config == CONFIG
            else ""
        ),
        "test_set": "the 500 held-out MNIST-5k digits of data seed 0 (val_size 500), the same for every run",
        "gan_iterations": args.steps,
        "synthetic_per_run": args.num_synthetic,
        "classifier": f"DigitCNN from scratch, Adam 1e-3, {args.classifier_steps} steps of 64, no augmentation",
        "mixing": "real+synthetic: every batch real_fraction real (0.5: 32 + 32), the rest synthetic; all real "
        "and all synthetic images used",
        "second_reader": f"AllConvReader, {args.reader_steps} steps on the 4,500 training digits (benchmarks/augmentation.py)",
        "second_reader_held_out_accuracy": second_reader_accuracy,
        "keep_classified": args.keep_classified,
        "label_source": args.label_source,
        "ssl_config": SSL_CONFIG.name if args.label_source == "semi_supervised" else None,
        "ssl_iterations": args.ssl_steps if args.label_source == "semi_supervised" else None,
        "overrides": args.override,
        "real_fractions": args.real_fractions,
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
        "total_seconds": round(time.perf_counter() - start, 1),
        "summary": summary,
        "runs": runs,
    }
    write_results(args.out, results)
    print(report(results))
    print(f"total {results['total_seconds']:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
