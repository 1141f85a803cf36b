"""What the validation metrics cost and what their floors are, with the shipped MNIST features.

Protocol: reference = MNIST-5k's held-out split (500 images, as in configs/wgan.yaml);
"fakes" = N training images (the floor), N uniform-noise images, and N images of a
DCGAN generator at initialisation (the cost of sampling included). One CPU thread.

    python -m benchmarks.metrics_cost            # N = 1,000 and 2,000
    python -m benchmarks.metrics_cost --quick    # N = 250
"""

from __future__ import annotations

import time
from typing import Any

import torch

from benchmarks.harness import add_common_flags, add_threads, finish, parser, write_results
from gan_lightning.metrics import GenerativeMetrics
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.networks import DCGANGenerator

#: The floor table's columns: (metric, header, format).
COLUMNS = (
    ("fid", "FID", ".2f"),
    ("kid", "KID", ".4f"),
    ("precision", "precision", ".2f"),
    ("recall", "recall", ".2f"),
    ("inception_score", "IS (max 10)", ".2f"),
    ("modes_covered", "modes /10", ".0f"),
    ("class_kl", "class KL", ".3f"),
)


def timed_evaluation(metrics: GenerativeMetrics, sample, reference, floor=None) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    results = metrics.evaluate(sample, reference=reference, floor=floor)
    return results, time.perf_counter() - start


def measure(num_samples: int, data: MNIST5kDataModule, reference: list, generator: torch.nn.Module) -> dict[str, Any]:
    """Floors, two bad generators and the seconds per validation at ``num_samples`` samples."""

    def dcgan(n: int, g: torch.Generator) -> torch.Tensor:
        return generator(torch.randn(n, 64, generator=g))

    def noise(n: int, g: torch.Generator) -> torch.Tensor:
        return torch.rand(n, 1, 28, 28, generator=g) * 2 - 1

    train_images = data.train_set.tensors[0]
    metrics = GenerativeMetrics(num_samples=num_samples, kid=True, precision_recall=True, inception_score=True)
    floor = [train_images[i : i + 250] for i in range(0, num_samples, 250)]
    # First call: featurise reference + floor + fakes (the first validation of a run).
    first, first_seconds = timed_evaluation(metrics, dcgan, reference, floor)
    # Later calls: fakes only (reference and floor are cached).
    later, later_seconds = timed_evaluation(metrics, dcgan, None)
    uniform, _ = timed_evaluation(metrics, noise, None)
    fid_only = GenerativeMetrics(num_samples=num_samples, floor=False)
    _, fid_only_seconds = timed_evaluation(fid_only, dcgan, reference)
    _, fid_only_later = timed_evaluation(fid_only, dcgan, None)
    return {
        "floor": {k: round(v, 4) for k, v in first.items() if k.endswith("_floor")},
        "untrained_dcgan": {k: round(v, 4) for k, v in later.items()},
        "uniform_noise": {k: round(v, 4) for k, v in uniform.items()},
        "seconds_first_validation_all_metrics": round(first_seconds, 2),
        "seconds_per_validation_all_metrics": round(later_seconds, 2),
        "seconds_first_validation_fid_modes": round(fid_only_seconds, 2),
        "seconds_per_validation_fid_modes": round(fid_only_later, 2),
    }


def sample_counts(results: dict[str, Any]) -> list[str]:
    """The measured N (the results' numeric keys), smallest first."""
    return sorted((key for key in results if key.isdigit()), key=int)


def row(label: str, values: dict[str, float], suffix: str = "") -> str:
    cells = [format(values[f"{name}{suffix}"], spec) for name, _, spec in COLUMNS]
    return f"| {label} | " + " | ".join(cells) + " |"


def report(results: dict[str, Any]) -> str:
    """The two BENCHMARKS.md tables: seconds per validation, then floors and bad generators."""
    lines = [
        "| N generated | FID + mode coverage, per validation | all metrics (+KID, P/R, IS), per validation "
        "| first validation, all metrics (+ reference, + floor) |",
        "|---|---|---|---|",
    ]
    for n in sample_counts(results):
        r = results[n]
        lines.append(
            f"| {int(n):,} | {r['seconds_per_validation_fid_modes']:.2f} s | "
            f"{r['seconds_per_validation_all_metrics']:.2f} s | {r['seconds_first_validation_all_metrics']:.2f} s |"
        )
    n = sample_counts(results)[0]
    r = results[n]
    lines += [
        "",
        f"Floors (train vs held-out, same counts) and two bad generators, {results['threads']} thread, "
        f"reference {results['reference']} held-out digits, `{results['features']}` features:",
        "",
        f"| N = {int(n):,} | " + " | ".join(header for _, header, _ in COLUMNS) + " |",
        "|---" * (len(COLUMNS) + 1) + "|",
        row("floor: real training digits", r["floor"], "_floor"),
        row("untrained DCGAN", r["untrained_dcgan"]),
        row("uniform noise", r["uniform_noise"]),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    command = parser(__doc__)
    add_common_flags(command, "metrics_cost", "N = 250 only")
    add_threads(command)
    command.add_argument("--num-samples", type=int, nargs="+", default=[1000, 2000], help="the N to measure")
    args = finish(command.parse_args(argv), "metrics_cost", {"num_samples": [250]})
    torch.set_num_threads(args.threads)
    data = MNIST5kDataModule(val_size=500, batch_size=250)
    data.setup()
    reference = list(data.val_dataloader())
    generator = DCGANGenerator(latent_dim=64, image_size=28, channels=1, base_width=32).eval()
    record: dict[str, Any] = {"threads": args.threads, "reference": len(data.val_set), "features": "mnist"}
    if args.quick:
        record["quick"] = True
    for num_samples in args.num_samples:
        record[str(num_samples)] = measure(num_samples, data, reference, generator)
    write_results(args.out, record)
    print(report(record))


if __name__ == "__main__":
    main()
