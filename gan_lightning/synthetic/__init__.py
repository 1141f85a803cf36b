"""Synthetic training data from a class-conditional GAN: labelled samples on disk and the
Classification Accuracy Score pipeline (docs/augmentation.md).

Not to be confused with :mod:`gan_lightning.augment`, which augments the discriminator's
inputs during GAN training (ADA, DiffAugment).
"""

from gan_lightning.synthetic.cas import TRAINING_SETS, classification_accuracy_scores, format_scores
from gan_lightning.synthetic.classifier import ClassifierRecipe, DigitCNN, accuracy, mixed_batches, train_classifier
from gan_lightning.synthetic.export import (
    MANIFEST,
    SyntheticDataError,
    cycled_labels,
    parse_classes,
    read_labelled_images,
    write_labelled_images,
)

__all__ = [
    "MANIFEST",
    "TRAINING_SETS",
    "ClassifierRecipe",
    "DigitCNN",
    "SyntheticDataError",
    "accuracy",
    "classification_accuracy_scores",
    "cycled_labels",
    "format_scores",
    "mixed_batches",
    "parse_classes",
    "read_labelled_images",
    "train_classifier",
    "write_labelled_images",
]
