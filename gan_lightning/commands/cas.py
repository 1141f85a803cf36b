"""``gan-lightning cas --synthetic DIR``: does a GAN's labelled synthetic data help a classifier?

Trains the same small classifier from scratch on the labelled real subset, on the synthetic
images of ``DIR`` (written by ``gan-lightning sample CKPT --out DIR --num-images N --labels
balanced``) and on both, and tests each on the held-out real digits. The synthetic-only
accuracy is the Classification Accuracy Score (Ravuri & Vinyals 2019). The real data is the
GAN run's own (``--config runs/<run>/config.yaml``) or MNIST-5k with ``--labels-per-class``.
See docs/augmentation.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import TensorDataset

from gan_lightning.errors import CommandLineError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-lightning cas", description=__doc__)
    parser.add_argument("--synthetic", type=Path, required=True, help="folder with labels.csv (sample --labels)")
    data = parser.add_argument_group("real data (train: the labelled subset; test: the held-out split)")
    data.add_argument("--config", type=Path, help="the GAN run's config.yaml: its data module gives both splits")
    data.add_argument("--labels-per-class", type=int, help="without --config: MNIST-5k digits per class (default all)")
    data.add_argument("--labels-seed", type=int, help="without --config: which digits (default: --data-seed)")
    data.add_argument("--data-seed", type=int, default=0, help="without --config: the held-out split's seed")
    data.add_argument("--val-size", type=int, default=500, help="without --config: held-out digits")
    recipe = parser.add_argument_group("the classifier's fixed recipe")
    recipe.add_argument("--steps", type=int, default=300)
    recipe.add_argument("--batch-size", type=int, default=64)
    recipe.add_argument("--lr", type=float, default=1e-3)
    recipe.add_argument("--real-fraction", type=float, default=0.5, help="share of real images per mixed batch")
    recipe.add_argument("--seed", type=int, default=0, help="initial weights and batch order")
    parser.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    return parser


#: The data without ``--config``: MNIST-5k, one of the MNIST demos (imported by class path:
#: the core does not import the demos).
DEFAULT_DATA = "gan_lightning.mnist.MNIST5kDataModule"


def default_data_class() -> type:
    """The class :data:`DEFAULT_DATA` names, imported now."""
    module_name, _, class_name = DEFAULT_DATA.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def real_splits(args: argparse.Namespace) -> tuple[Any, Any, int]:
    """(train, test, num_classes): the labelled subset and the held-out split as tensors."""
    if args.config is not None:
        from gan_lightning.commands.loading import load_datamodule

        datamodule = load_datamodule(args.config, args.config)
    else:
        try:
            datamodule = default_data_class()(
                val_size=args.val_size,
                seed=args.data_seed,
                labels_per_class=args.labels_per_class,
                labels_seed=args.labels_seed,
                batch_size=1,
            )
        except ValueError as error:
            raise CommandLineError(str(error)) from error
        datamodule.setup()
    labelled = getattr(datamodule, "labelled_set", None)  # without pseudo-labelled digits, where it has them
    splits = (
        labelled if labelled is not None else getattr(datamodule, "train_set", None),
        getattr(datamodule, "val_set", None),
    )
    if not all(isinstance(split, TensorDataset) and len(split.tensors) == 2 for split in splits):
        raise CommandLineError(
            f"{type(datamodule).__name__} does not hold (images, labels) tensors: use an in-memory data set "
            f"such as {DEFAULT_DATA}."
        )
    if not len(splits[1]):  # type: ignore[arg-type]
        raise CommandLineError("The held-out split is empty (val_size 0): there is nothing to test on.")
    return splits[0].tensors, splits[1].tensors, int(getattr(datamodule, "num_classes", 0) or 10)  # type: ignore[union-attr]


def main(argv: list[str]) -> int:
    from gan_lightning.synthetic import (
        ClassifierRecipe,
        classification_accuracy_scores,
        format_scores,
        read_labelled_images,
    )

    args = build_parser().parse_args(argv)
    try:
        recipe = ClassifierRecipe(args.steps, args.batch_size, args.lr, args.real_fraction)
    except ValueError as error:
        raise CommandLineError(str(error)) from error
    real, test, num_classes = real_splits(args)
    synthetic = read_labelled_images(args.synthetic, channels=real[0].shape[1])
    scores = classification_accuracy_scores(real, synthetic, test, recipe, args.seed, num_classes)
    print(format_scores(scores, len(real[1]), len(synthetic[1]), len(test[1])))
    if args.json is not None:
        record = {"scores": scores, "real": len(real[1]), "synthetic": len(synthetic[1]), "test": len(test[1])}
        args.json.write_text(json.dumps(record | {"recipe": vars(recipe), "seed": args.seed}, indent=2) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    torch.set_num_threads(1)
    raise SystemExit(main(sys.argv[1:]))
