"""Does synthetic data help a classifier? Classification Accuracy Score and the real+synthetic gain.

The same small classifier (:mod:`gan_lightning.synthetic.classifier`) is trained three ways
and tested on held-out real images that neither it nor the GAN saw:

- ``real``: the labelled real subset only (the baseline);
- ``synthetic``: the GAN's labelled samples only. Its test accuracy is the Classification
  Accuracy Score (Ravuri & Vinyals 2019, "Classification Accuracy Score for Conditional
  Generative Models", Sec. 3): high only if the samples are both right for their label
  and as varied as the real class;
- ``real+synthetic``: both, every batch ``real_fraction`` real (default half and half).

``gain`` is ``real+synthetic − real``: what the synthetic data added to the labelled set.
"""

from __future__ import annotations

from collections.abc import Sequence

from gan_lightning.synthetic.classifier import ClassifierRecipe, Labelled, accuracy, train_classifier
from gan_lightning.synthetic.export import SyntheticDataError

TRAINING_SETS = ("real", "synthetic", "real+synthetic")


def check_compatible(real: Labelled, synthetic: Labelled, num_classes: int) -> None:
    """Synthetic images must have the real images' shape and labels the real classes."""
    if tuple(real[0].shape[1:]) != tuple(synthetic[0].shape[1:]):
        raise SyntheticDataError(
            f"Synthetic images have shape {tuple(synthetic[0].shape[1:])} but the real ones "
            f"{tuple(real[0].shape[1:])}: sample from a GAN trained on this data (same image_size/channels)."
        )
    if len(synthetic[1]) and not 0 <= int(synthetic[1].min()) <= int(synthetic[1].max()) < num_classes:
        raise SyntheticDataError(f"Synthetic labels must be classes 0..{num_classes - 1} of the real data.")


def classification_accuracy_scores(
    real: Labelled,
    synthetic: Labelled,
    test: Labelled,
    recipe: ClassifierRecipe | None = None,
    seed: int = 0,
    num_classes: int = 10,
    training_sets: Sequence[str] = TRAINING_SETS,
) -> dict[str, float]:
    """Test accuracy of a classifier trained on each of ``training_sets`` (default: all of
    :data:`TRAINING_SETS`), plus ``gain`` when both ``real`` and ``real+synthetic`` are among them.

    The classifiers start from the same seeded weights; ``test`` is only ever tested on. A
    subset trains only what it names (e.g. another mixing ratio beside an earlier full run).
    """
    unknown = sorted(set(training_sets) - set(TRAINING_SETS))
    if unknown:
        raise ValueError(f"Unknown training set(s) {unknown}: choose from {list(TRAINING_SETS)}.")
    recipe = recipe or ClassifierRecipe()
    check_compatible(real, synthetic, num_classes)
    real_count, synthetic_count = recipe.mixed_counts()
    plans = {
        "real": ([real], [recipe.batch_size]),
        "synthetic": ([synthetic], [recipe.batch_size]),
        "real+synthetic": ([real, synthetic], [real_count, synthetic_count]),
    }
    scores = {
        name: accuracy(train_classifier(sources, counts, recipe, seed, num_classes), *test)
        for name, (sources, counts) in plans.items()
        if name in training_sets
    }
    if "real" in scores and "real+synthetic" in scores:
        scores["gain"] = scores["real+synthetic"] - scores["real"]
    return scores


def format_scores(scores: dict[str, float], real_size: int, synthetic_size: int, test_size: int) -> str:
    """The scores as a small text table."""
    sizes = {"real": f"{real_size} real", "synthetic": f"{synthetic_size} synthetic"}
    sizes["real+synthetic"] = f"{real_size} real + {synthetic_size} synthetic"
    lines = [f"{'trained on':<16} {'images':<28} test accuracy on {test_size} held-out real"]
    lines += [f"{name:<16} {sizes[name]:<28} {scores[name]:.4f}" for name in TRAINING_SETS]
    lines.append(f"{'gain':<16} {'(real+synthetic - real)':<28} {scores['gain']:+.4f}")
    lines.append(f"CAS (synthetic only) = {scores['synthetic']:.4f}")
    return "\n".join(lines)
