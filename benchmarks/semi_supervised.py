"""Semi-supervised GAN (Salimans et al. 2016, Sec. 5) on MNIST-5k: how much do unlabelled digits add?

For each number of labels per class and each seed: train configs/semi_supervised.yaml on k
labelled digits per class (``labels_seed`` = the seed) with the other training digits
unlabelled, and the *same classifier* (network, optimizer, batches of labelled digits,
iterations) on the labelled digits alone; test both on the 500 held-out digits (the same for
every run; nothing trains on them, and the last iteration is scored: no checkpoint is picked
by held-out accuracy). Beside them, the paper's permutation-invariant MNIST row (60,000
unlabelled images, test errors of 10,000, mean ± standard deviation over 10 seeds).

    python -m benchmarks.semi_supervised                          # 5, 10, 20 labels/class x 3 seeds
    python -m benchmarks.semi_supervised --labels-per-class 10    # the target row alone
    python -m benchmarks.semi_supervised --labels-per-class 5 20 --resume   # then the others, same file
    python -m benchmarks.semi_supervised --quick                  # 10 labels/class, 1 seed, 200 it.
    python -m benchmarks.semi_supervised --config configs/semi_supervised_conv.yaml --labels-per-class 10 \
        --out benchmarks/results/semi_supervised_conv.json        # another recipe, its D also trained alone

Writes benchmarks/results/semi_supervised.json (every run, and mean ± standard error over
seeds) after each run, so an interrupted measurement keeps what it finished.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.harness import (
    CONFIGS,
    MeanSE,
    add_common_flags,
    add_seeds,
    add_steps,
    add_threads,
    cli_in_process,
    finish,
    format_mean_se,
    mean_and_stderr,
    parser,
    shown,
    write_results,
)

CONFIG = CONFIGS / "semi_supervised.yaml"
#: Salimans et al. 2016, Table 1 (permutation-invariant MNIST, 60k unlabelled): labelled
#: images in all → test errors of 10,000, mean and standard deviation.
PAPER_ERRORS = {20: (1677, 452), 50: (221, 136), 100: (93, 6.5), 200: (90, 4.2)}
METHODS = ("semi_supervised", "labelled_only")


def run_overrides(labels: int, seed: int, steps: int) -> list[str]:
    """The config's run on ``labels`` digits per class, seeded, validated once at the end."""
    return [
        f"--data.init_args.labels_per_class={labels}",
        f"--data.init_args.labels_seed={seed}",
        f"--seed_everything={seed}",
        f"--trainer.max_steps={steps}",
        f"--trainer.val_check_interval={steps}",
        f"--samples.every_n_steps={steps}",
        "--checkpoint.every_n_train_steps=null",
    ]


def held_out_accuracy(model: Any, data: Any) -> float:
    from gan_lightning.commands.evaluate import held_out_accuracy as accuracy

    return accuracy(model, list(data.val_dataloader()))


def train_semi_supervised(config: Path, labels: int, seed: int, steps: int, folder: Path) -> tuple[float, float]:
    """The semi-supervised GAN of ``config``: (held-out accuracy, training seconds)."""
    start = time.perf_counter()
    cli = cli_in_process(config, *run_overrides(labels, seed, steps), root=folder, progress=False)
    seconds = time.perf_counter() - start
    return held_out_accuracy(cli.model, cli.datamodule), seconds


def train_labelled_only(config: Path, labels: int, seed: int, steps: int) -> tuple[float, float]:
    """The config's discriminator as a plain classifier: its initialization, optimizer, LR
    schedule and moving average, the labelled half of the same training batches (through the
    config's ``labelled_augment``, if any), ``steps`` updates of the supervised loss alone."""
    from gan_lightning.tasks.semi_supervised import supervised_loss
    from gan_lightning.training.ema import ema_beta, update_ema

    cli = cli_in_process(config, *run_overrides(labels, seed, steps), run=False, progress=False)
    model, data = cli.model, cli.datamodule
    classifier, average = model.discriminator, model.discriminator_ema
    settings = model.optimization.of("discriminator")
    optimizer = settings.build_optimizer(classifier.parameters())
    scheduler = settings.scheduler(optimizer) if settings.scheduler is not None else None
    data.setup("fit")
    loader = data.train_dataloader()
    start = time.perf_counter()
    for step, (_, images, targets) in zip(range(steps), epochs(loader), strict=False):
        loss = supervised_loss(classifier(model.augmented_labelled(images)), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if average is not None:  # as SemiSupervisedGAN.end_iteration moves it
            size = len(images)
            update_ema(average, classifier, ema_beta(size * step, size, model.ema_kimg, model.ema_rampup))
    seconds = time.perf_counter() - start
    return held_out_accuracy(model, data), seconds


def epochs(loader: Any) -> Any:
    """The loader's batches, epoch after epoch, each epoch shuffled as Lightning would (``set_epoch``)."""
    for epoch in itertools.count():
        loader.sampler.set_epoch(epoch)
        yield from loader


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, MeanSE]]:
    """Per label count: mean ± s.e. over seeds of each method's accuracy and seconds."""
    summary: dict[str, dict[str, MeanSE]] = {}
    for labels in sorted({run["labels_per_class"] for run in runs}):
        group = [run for run in runs if run["labels_per_class"] == labels]
        names = [f"{method}_{what}" for method in METHODS for what in ("accuracy", "seconds")]
        summary[str(labels)] = {name: mean_and_stderr([run[name] for run in group]) for name in names}
    return summary


def paper_cell(labels_per_class: int) -> str:
    """The paper's accuracy (and errors of 10,000) with as many labels in all, or a dash."""
    errors = PAPER_ERRORS.get(10 * labels_per_class)
    if errors is None:
        return "—"
    mean, sd = errors
    return f"{100 - mean / 100:.2f} ({mean:g} ± {sd:g} errors)"


def markdown_table(summary: dict[str, dict[str, MeanSE]], iterations: int) -> str:
    """The BENCHMARKS.md table: held-out accuracy in %, mean ± s.e. over seeds."""
    lines = [
        f"| labels/class | semi-supervised GAN ({iterations} it.) | same classifier, labelled digits only | gain "
        "| paper, MNIST 60k (same labels in all) | seconds (GAN / alone) | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for labels, stats in summary.items():
        ssl, alone = stats["semi_supervised_accuracy"], stats["labelled_only_accuracy"]
        gain = {"mean": ssl["mean"] - alone["mean"], "se": None, "n": 1}
        lines.append(
            f"| {labels} | **{format_mean_se(ssl, scale=100)}** | {format_mean_se(alone, scale=100)} | "
            f"{format_mean_se(gain, scale=100, signed=True)} | {paper_cell(int(labels))} | "
            f"{stats['semi_supervised_seconds']['mean']:.0f} / {stats['labelled_only_seconds']['mean']:.0f} | "
            f"{ssl['n']} |"
        )
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    return (
        "Held-out accuracy on the 500 MNIST-5k digits no run trains on, in %, mean ± standard error over seeds "
        "(4,500 training digits: 10·k labelled, the rest unlabelled). Target: ≥ 95 % at 10 labels/class.\n\n"
        + markdown_table(results["summary"], results["iterations"])
        + f"\n\n{results['recipe']}. Training time of all runs {results['total_seconds']:.0f} s, {results['threads']} thread(s)."
    )


@functools.cache
def resolved_config(path: Path) -> dict[str, Any]:
    """The config of ``path`` as the CLI resolves it (``extends:`` chains, defaults, interpolation):
    what a run of it trains, read without training. Built once per path (the CLI instantiates the
    model and data to resolve it); callers only read the result."""
    return cli_in_process(path, run=False, progress=False).config.as_dict()


def describe_discriminator(section: dict[str, Any]) -> str:
    """D's class and widths, as the recipe line names them."""
    name, args = section["class_path"].rsplit(".", 1)[-1], section.get("init_args", {})
    if "hidden_dims" in args:
        hidden = "-".join(str(width) for width in args["hidden_dims"])
        return (
            f"{name} {hidden} (weight norm + data-dependent init, Gaussian noise "
            f"{args.get('input_noise', 0.3)} input / 0.5 hidden)"
        )
    widths = "-".join(str(width) for width in args.get("widths", []))
    return (
        f"{name} {widths} (weight-normed convs + data-dependent init, Gaussian noise "
        f"{args.get('input_noise', 0.3)} input, dropout {args.get('dropout', 0.5)} between stages)"
    )


def describe_generator(section: dict[str, Any]) -> str:
    """G's class and widths, as the recipe line names them."""
    name, args = section["class_path"].rsplit(".", 1)[-1], section.get("init_args", {})
    if "hidden_dims" in args:
        return f"{name} {'-'.join(str(width) for width in args['hidden_dims'])}"
    return f"{name} (base width {args.get('base_width', 64)})" if "base_width" in args else name


def recipe(config_path: Path, steps: int) -> str:
    """The networks and training settings, read from the config (what every run here shares)."""
    config = resolved_config(config_path)
    model, data = config["model"]["init_args"], config["data"]["init_args"]
    optimizer = model["optimization"]["discriminator"]["optimizer"]["init_args"]
    return (
        f"D: {describe_discriminator(model['discriminator'])}, "
        f"G: {describe_generator(model['generator'])}; Adam {optimizer['lr']:g} β1 {optimizer['betas'][0]}, LR to 0 over the "
        f"second half; batches of {data['batch_size']} labelled + {data['batch_size']} unlabelled; {steps} "
        f"iterations{describe_augment(model.get('labelled_augment'))}; the classifier scored is D's moving average "
        f"(ema_kimg {model['optimization']['ema_kimg']:g}) after the last iteration"
    )


def describe_augment(section: dict[str, Any] | None) -> str:
    """The labelled batch's transform, as the recipe line names it (empty when there is none)."""
    if not section:
        return ""
    name, args = section["class_path"].rsplit(".", 1)[-1], section.get("init_args", {})
    policy = args.get("policy")
    settings = ", ".join(
        [
            *([f"policy {'+'.join(policy)}"] if policy else []),
            *[f"{k} {args[k]:g}" for k in ("translation_ratio",) if k in args],
        ]
    )
    return f"; labelled batches through {name}" + (f" ({settings})" if settings else "")


def one_run(labels: int, seed: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    folder = work / f"k{labels}_s{seed}"
    ssl_accuracy, ssl_seconds = train_semi_supervised(args.config, labels, seed, args.steps, folder)
    alone_accuracy, alone_seconds = train_labelled_only(args.config, labels, seed, args.steps)
    return {
        "labels_per_class": labels,
        "seed": seed,
        "semi_supervised_accuracy": ssl_accuracy,
        "labelled_only_accuracy": alone_accuracy,
        "semi_supervised_seconds": round(ssl_seconds, 1),
        "labelled_only_seconds": round(alone_seconds, 1),
        "iterations": args.steps,
    }


def with_runs(results: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """``results`` with ``runs``, their summary and their total training seconds."""
    seconds = sum(run["semi_supervised_seconds"] + run["labelled_only_seconds"] for run in runs)
    return results | {"total_seconds": round(seconds, 1), "summary": summarize(runs), "runs": runs}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    command = parser(__doc__)
    add_common_flags(command, "semi_supervised", "10 labels/class, 1 seed, 200 it.")
    add_threads(command)
    add_seeds(command, [0, 1, 2])
    add_steps(command, None, " (default: the config's trainer.max_steps)")
    command.add_argument("--labels-per-class", type=int, nargs="+", default=[5, 10, 20])
    command.add_argument(
        "--config", type=Path, default=CONFIG, help="the semi-supervised GAN's config (default %(default)s)"
    )
    command.add_argument(
        "--resume",
        action="store_true",
        help="keep the runs already in --out (same iterations) and add the missing ones: one row at a time",
    )
    quick = {"labels_per_class": [10], "seeds": [0], "steps": 200}
    args = finish(command.parse_args(argv), "semi_supervised", quick)
    args.steps = args.steps or resolved_config(args.config)["trainer"]["max_steps"]
    return args


def main(argv: list[str] | None = None) -> None:
    from benchmarks.harness import quiet_lightning

    quiet_lightning()  # parse_args already builds the CLI once, to read the config
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    runs: list[dict[str, Any]] = []
    results: dict[str, Any] = {
        "command": " ".join(["python -m benchmarks.semi_supervised", *(sys.argv[1:] if argv is None else argv)]),
        "quick": args.quick,
        "config": shown(args.config),
        "recipe": recipe(args.config, args.steps),
        "test_set": "the 500 held-out MNIST-5k digits of data seed 0, the same for every run",
        "iterations": args.steps,
        "threads": args.threads,
        "cpu": platform.processor() or platform.machine(),
    }
    if args.resume and args.out.is_file():
        runs = [run for run in json.loads(args.out.read_text())["runs"] if run["iterations"] == args.steps]
    done = {(run["labels_per_class"], run["seed"]) for run in runs}
    with tempfile.TemporaryDirectory() as folder:
        for labels, seed in itertools.product(args.labels_per_class, args.seeds):
            if (labels, seed) in done:
                continue
            runs.append(one_run(labels, seed, args, Path(folder)))
            print(json.dumps(runs[-1]), flush=True)
            write_results(args.out, with_runs(results, runs))
    print(report(with_runs(results, runs)))
    print(f"{time.perf_counter() - start:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
