"""What the validation metrics cost and what their floors are, with the shipped MNIST features.

Protocol: reference = MNIST-5k's held-out split (500 images, as in configs/wgan.yaml);
"fakes" = N training images (the floor), N uniform-noise images, and N images of a
DCGAN generator at initialisation (the cost of sampling included). One CPU thread.

    python benchmarks/metrics_cost.py            # prints a JSON record
"""

from __future__ import annotations

import json
import time

import torch

from gan_lightning.data import MNIST5kDataModule
from gan_lightning.metrics import GenerativeMetrics
from gan_lightning.networks import DCGANGenerator


def timed_evaluation(metrics: GenerativeMetrics, sample, reference, floor=None) -> tuple[dict[str, float], float]:
    start = time.perf_counter()
    results = metrics.evaluate(sample, reference=reference, floor=floor)
    return results, time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    data = MNIST5kDataModule(val_size=500, batch_size=250)
    data.setup()
    reference = list(data.val_dataloader())
    train_images = data.train_set.tensors[0]
    generator = DCGANGenerator(latent_dim=64, image_size=28, channels=1, base_width=32).eval()
    record: dict[str, object] = {"threads": 1, "reference": len(data.val_set), "features": "mnist"}
    for num_samples in (1000, 2000):
        options = {"num_samples": num_samples, "kid": True, "precision_recall": True, "inception_score": True}
        metrics = GenerativeMetrics(**options)
        floor = [train_images[i : i + 250] for i in range(0, num_samples, 250)]
        # First call: featurise reference + floor + fakes (the first validation of a run).
        first, first_seconds = timed_evaluation(
            metrics, lambda n, g: generator(torch.randn(n, 64, generator=g)), reference, floor
        )
        # Later calls: fakes only (reference and floor are cached).
        later, later_seconds = timed_evaluation(metrics, lambda n, g: generator(torch.randn(n, 64, generator=g)), None)
        noise, _ = timed_evaluation(metrics, lambda n, g: torch.rand(n, 1, 28, 28, generator=g) * 2 - 1, None)
        fid_only = GenerativeMetrics(num_samples=num_samples, floor=False)
        _, fid_only_seconds = timed_evaluation(
            fid_only, lambda n, g: generator(torch.randn(n, 64, generator=g)), reference
        )
        _, fid_only_later = timed_evaluation(fid_only, lambda n, g: generator(torch.randn(n, 64, generator=g)), None)
        record[str(num_samples)] = {
            "floor": {k: round(v, 4) for k, v in first.items() if k.endswith("_floor")},
            "untrained_dcgan": {k: round(v, 4) for k, v in later.items()},
            "uniform_noise": {k: round(v, 4) for k, v in noise.items()},
            "seconds_first_validation_all_metrics": round(first_seconds, 2),
            "seconds_per_validation_all_metrics": round(later_seconds, 2),
            "seconds_first_validation_fid_modes": round(fid_only_seconds, 2),
            "seconds_per_validation_fid_modes": round(fid_only_later, 2),
        }
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
