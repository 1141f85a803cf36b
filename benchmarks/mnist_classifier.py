"""The digit reader every MNIST benchmark uses: the shipped MNIST classifier
(gan_lightning/mnist/classifier.py), retrained by scripts/train_mnist_classifier.py with its
defaults (20 epochs, seed 0, one thread; bit for bit the shipped weights) into a temporary
file, and its accuracy on the data the benchmarks read with it.

    python -m benchmarks.mnist_classifier            # ≈ 1 min on one thread
    python -m benchmarks.mnist_classifier --quick    # 2 epochs

Its accuracy on real digits is the ceiling of every "digit read" score in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import add_common_flags, finish, parser, write_results

ROWS = (
    ("held_out_accuracy", "MNIST-5k held-out split ({held_out_samples:,})"),
    ("train_accuracy", "MNIST-5k training split ({train_samples:,})"),
    ("mnist_at_32px_accuracy", "held-out split resized to 32 px (as `image_size: 32` runs see it)"),
    ("digits8x8_box28_accuracy", "scikit-learn 8×8 digits (1,797), resized to 28 px"),
    ("digits8x8_box20_accuracy", "scikit-learn 8×8 digits (1,797), digit box 20 px"),
)


def report(results: dict[str, Any]) -> str:
    """The accuracy table, then the training run."""
    lines = ["| data | accuracy |", "|---|---|"]
    lines += [f"| {label.format(**results)} | {100 * results[key]:.1f} % |" for key, label in ROWS]
    curve = results["per_epoch_held_out_accuracy"]
    lines += [
        "",
        f"{len(curve)} epochs in {results['seconds']:.0f} s, {results['parameters']:,} parameters; held-out "
        f"accuracy after each epoch: {' '.join(f'{100 * value:.1f}' for value in curve)} %.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from scripts.train_mnist_classifier import main as train

    command = parser(__doc__)
    add_common_flags(command, "mnist_classifier", "2 epochs")
    command.add_argument("--epochs", type=int, default=20)
    args = finish(command.parse_args(argv), "mnist_classifier", {"epochs": 2})
    with tempfile.TemporaryDirectory() as folder:
        record = Path(folder) / "record.json"
        train(["--epochs", str(args.epochs), "--out", str(Path(folder) / "classifier.pt"), "--record", str(record)])
        results = json.loads(record.read_text())
    results |= {"command": f"python scripts/train_mnist_classifier.py --epochs {args.epochs}", "quick": args.quick}
    write_results(args.out, results)
    print(report(results))


if __name__ == "__main__":
    main()
