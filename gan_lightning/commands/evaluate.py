"""``gan-lightning evaluate CKPT``: every metric of a trained generator beside its floor, and
the held-out accuracy of a task that classifies (the semi-supervised GAN's discriminator).

Reference = the run's held-out split (its validation loader); floor = as many training
images as generated ones, scored against the same reference. Prints a table and writes JSON
with the protocol (sample counts, reference split, feature network, resize) so the numbers
can be compared with others only when the protocol matches.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gan_lightning.batch import split_batch
from gan_lightning.commands.loading import load_datamodule, load_module, truncation_option
from gan_lightning.errors import CommandLineError
from gan_lightning.metrics import FEATURE_NETWORKS, GenerativeMetrics
from gan_lightning.metrics.features import feature_network_class
from gan_lightning.networks.base import is_conditional
from gan_lightning.sampling import (
    RejectionError,
    check_quantile,
    discriminator_logits,
    real_score_threshold,
    rejection_sample,
)

Sampler = Callable[[int, torch.Generator], torch.Tensor]

RESIZE = {
    "mnist": "bilinear antialiased to the 28×28 MNIST frame (digit_box px, centred)",
    "inception": "uint8 quantisation, then torch-fidelity's TF1-compatible bilinear resize to 299×299",
}


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="gan-lightning evaluate", description=__doc__)
    parser.add_argument("checkpoint", type=Path, help="a .ckpt written by `lightning fit`")
    parser.add_argument("--config", type=Path, help="the run's config.yaml (default: found next to the checkpoint)")
    parser.add_argument(
        "--features",
        default="mnist",
        help="mnist (shipped, offline), inception (needs --weights-path or torch hub's cache) or a dotted "
        "path to an nn.Module class taking images in [-1, 1]",
    )
    parser.add_argument("--weights-path", help="weights of the mnist/inception feature network")
    parser.add_argument(
        "--digit-box",
        type=int,
        default=28,
        help="mnist features: px the digits are resized to inside the 28×28 frame (28 for MNIST, 20 for 8×8 digits)",
    )
    parser.add_argument("--num-samples", type=int, default=2000, help="generated images (and floor images)")
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation noise and KID subsets")
    parser.add_argument("--no-kid", action="store_true", help="skip KID")
    parser.add_argument("--no-precision-recall", action="store_true", help="skip precision/recall")
    parser.add_argument("--no-floor", action="store_true", help="skip the real-vs-real floor")
    parser.add_argument("--mode-min-count", type=int, default=1, help="samples a class needs to count as covered")
    parser.add_argument("--raw-generator", action="store_true", help="use the raw generator, not its EMA")
    parser.add_argument(
        "--truncation",
        type=float,
        help="draw the noise truncated to ±T (BigGAN's truncation trick: precision up, recall down); default: none",
    )
    parser.add_argument(
        "--reject-quantile",
        type=float,
        help="the D-filter: keep only samples D scores at least as high as this quantile of its scores on "
        "training images (e.g. 0.1); the acceptance is recorded. Default: every sample, unfiltered",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, help="JSON file (default: <checkpoint>.metrics.json)")
    return parser


def feature_argument(args: argparse.Namespace) -> str | torch.nn.Module:
    """``mnist`` (with ``--digit-box``), the other names of
    :data:`~gan_lightning.metrics.FEATURE_NETWORKS` as they are; ``package.module.Class``
    instantiated without arguments."""
    name = args.features
    if name == "mnist":
        return feature_network_class(name)(args.weights_path, digit_box=args.digit_box)
    if name in FEATURE_NETWORKS:
        return name
    import importlib

    module_name, _, class_name = name.rpartition(".")
    if not module_name:
        raise CommandLineError(f"--features must be mnist, inception or a dotted class path, got {name!r}.")
    try:
        feature_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise CommandLineError(f"--features {name}: cannot import it ({error}).") from error
    return feature_class()


def evaluate_checkpoint(args: argparse.Namespace) -> dict[str, Any]:
    """Load, sample, score; returns the JSON record."""
    torch.manual_seed(args.seed)
    features = feature_argument(args)
    has_classifier = args.features in ("mnist", "inception") or getattr(features, "num_classes", 0) > 0
    metrics = GenerativeMetrics(
        features=features,
        weights_path=args.weights_path,
        num_samples=args.num_samples,
        batch_size=args.batch_size,
        kid=not args.no_kid,
        precision_recall=not args.no_precision_recall,
        inception_score=has_classifier,
        mode_coverage=has_classifier and args.features != "inception",
        mode_min_count=args.mode_min_count,
        floor=not args.no_floor,
        seed=args.seed,
    )
    module, config_path = load_module(args.checkpoint, args.config, metrics=None)
    check_draws_from_noise(module, args.checkpoint, config_path)
    datamodule = load_datamodule(config_path, args.checkpoint)
    device = torch.device(args.device)
    module.to(device)
    use_ema = not args.raw_generator
    options = truncation_option(module, args.truncation)

    def sample(num: int, generator: torch.Generator) -> torch.Tensor:
        return module.sample(num, use_ema=use_ema, generator=generator, **options).float()

    reference = [_to(batch, device) for batch in datamodule.val_dataloader()]
    floor = None if args.no_floor else (_to(batch, device) for batch in datamodule.train_dataloader())
    rejection = None
    if args.reject_quantile is not None:
        training = torch.cat([split_batch(_to(batch, device))[0] for batch in datamodule.train_dataloader()])
        sample, rejection = discriminator_filtered(module, sample, training, args.reject_quantile)
    results = metrics.evaluate(sample, reference=reference, floor=floor)
    counts = metrics.counts()
    counts["generated"] = args.num_samples
    table = {
        name: {"value": value, "floor": results.get(f"{name}_floor")}
        for name, value in results.items()
        if not name.endswith("_floor")
    }
    if module.offers("classify"):  # a semi-supervised GAN's D: its held-out accuracy beside the samples' scores
        table["accuracy"] = {"value": held_out_accuracy(module, reference), "floor": None}
    return {
        "checkpoint": str(args.checkpoint),
        "config": str(config_path) if config_path else None,
        "generator": "ema" if use_ema and getattr(module, "generator_ema", None) is not None else "raw",
        "truncation": args.truncation,
        "rejection": rejection,
        "feature_network": metrics.feature_name,
        "feature_dim": metrics.network.num_features or None,
        "resize": RESIZE.get(metrics.feature_name, "none (the network's own)"),
        "reference": f"held-out split of {type(datamodule).__name__} (its validation loader)",
        "floor_set": None if args.no_floor else "training split, as many images as generated",
        "sample_counts": counts,
        "seed": args.seed,
        "metrics": table,
    }


def check_draws_from_noise(module: Any, checkpoint: Path, config_path: Path | None) -> None:
    """evaluate scores images drawn from noise against real ones; a task that draws from captions,
    clips or source images is scored by its own held-out metrics, which ``lightning validate`` runs."""
    if module.offers("sample") and not module.makes_clips:
        return
    config = config_path or "<the run's config.yaml>"
    raise CommandLineError(
        f"evaluate scores images a generator draws from noise alone; {type(module).__name__} is scored on its "
        f"held-out split by the metrics its config names (none under `metrics: null`) instead: "
        f"lightning validate --config {config} --ckpt_path {checkpoint}"
    )


def discriminator_filtered(
    module: Any, sample: Sampler, training: torch.Tensor, quantile: float
) -> tuple[Sampler, dict[str, float]]:
    """``sample`` through the D-filter (:func:`~gan_lightning.sampling.rejection_sample`): only
    samples D scores at least as high as ``quantile`` of its scores on the ``training`` images
    pass. The dict (quantile, threshold, and the acceptance once sampled) goes into the record:
    filtered numbers are never reported as unfiltered ones."""
    discriminator = getattr(module, "discriminator", None)
    if not isinstance(discriminator, torch.nn.Module) or getattr(module, "makes_clips", False):
        raise CommandLineError(f"--reject-quantile: {type(module).__name__} has no image discriminator to filter with.")
    if is_conditional(discriminator):
        raise CommandLineError(
            "--reject-quantile: this discriminator is class-conditional and scores an image only with its label; "
            "the D-filter scores unconditional ones. Drop the flag."
        )
    try:
        check_quantile(quantile)
    except ValueError as error:
        raise CommandLineError(f"--reject-quantile: {error}") from error
    score = discriminator_logits(discriminator)
    threshold = real_score_threshold(torch.cat([score(chunk) for chunk in training.split(500)]), quantile)
    record = {"quantile": quantile, "threshold": threshold, "kept": 0, "drawn": 0}

    def filtered(num: int, generator: torch.Generator) -> torch.Tensor:
        try:
            passed = rejection_sample(lambda count: sample(count, generator), score, num, threshold)
        except RejectionError as error:
            raise CommandLineError(f"--reject-quantile {quantile}: {error}") from error
        record["kept"] += len(passed.samples)
        record["drawn"] += passed.drawn
        record["acceptance"] = record["kept"] / record["drawn"]
        return passed.samples

    return filtered, record


def held_out_accuracy(module: Any, batches: list[Any]) -> float:
    """The fraction of held-out ``(images, labels)`` the module's classifier reads right."""
    correct = total = 0
    for images, labels, *_ in batches:
        correct += int((module.classify(images).argmax(dim=1) == labels.to(module.device)).sum())
        total += len(labels)
    return correct / total


def _to(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    return [item.to(device) if isinstance(item, torch.Tensor) else item for item in batch]


def format_table(record: dict[str, Any]) -> str:
    """A fixed-width table: metric, value, floor."""
    lines = [f"{'metric':<22}{'value':>14}{'floor':>14}", "-" * 50]
    for name, entry in record["metrics"].items():
        floor = entry["floor"]
        lines.append(f"{name:<22}{_number(entry['value']):>14}{_number(floor) if floor is not None else '-':>14}")
    counts = record["sample_counts"]
    lines.append("-" * 50)
    lines.append(
        f"features: {record['feature_network']} | generated {counts.get('generated')} | "
        f"reference {counts.get('reference')} | floor {counts.get('floor', '-')} | generator {record['generator']}"
        + (f" | noise truncated to ±{record['truncation']:g}" if record.get("truncation") is not None else "")
        + (
            f" | D-filter at the training scores' {record['rejection']['quantile']:g} quantile, "
            f"{100 * record['rejection']['acceptance']:.0f} % of samples kept"
            if record.get("rejection")
            else ""
        )
    )
    return "\n".join(lines)


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    record = evaluate_checkpoint(args)
    print(format_table(record))
    out = args.out or args.checkpoint.with_suffix(".metrics.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2))
    print(f"wrote {out}")
    return 0
