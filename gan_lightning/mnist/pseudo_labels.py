"""Labels for MNIST-5k's unlabelled training digits, read by a semi-supervised GAN's classifier.

Triple-GAN's route (Li et al. 2017) to a conditional GAN when labels are few: a classifier
trained on the few labels and the unlabelled images (here a :class:`~gan_lightning.tasks.
SemiSupervisedGAN`'s D, 95 % at 10 labels per class) labels every other image, so the
conditional GAN learns from all of them instead of the labelled subset alone. The checkpoint
must come from a run on the same held-out split and the same labelled digits: otherwise its
classifier has trained on digits this run tests on, or on other labels than this run's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gan_lightning.checkpoint.run_folder import find_run_config
from gan_lightning.data.image_data import DataError


class PseudoLabelError(DataError, ValueError):
    """The checkpoint named by ``pseudo_labels`` cannot label this data module's digits."""


#: The data settings a pseudo-labelling run must share with the run it labels for.
SHARED_DATA = ("seed", "val_size", "labels_per_class", "labels_seed")


def run_data_settings(checkpoint: Path) -> dict[str, Any]:
    """The effective ``data.init_args`` of the run that wrote ``checkpoint`` (``labels_seed``
    defaults to ``seed``, as the data modules do)."""
    from gan_lightning.commands.loading import read_config

    config = find_run_config(checkpoint)
    if config is None:
        raise PseudoLabelError(
            f"pseudo_labels: no config.yaml beside {checkpoint} (or in its run folder): the labelling run's data "
            "settings are needed to check it never saw this run's held-out digits. Give a checkpoint of a run folder."
        )
    settings = dict((read_config(config).get("data") or {}).get("init_args") or {})
    if settings.get("labels_seed") is None:
        settings["labels_seed"] = settings.get("seed", 0)
    return settings


def check_same_split(checkpoint: Path, expected: dict[str, Any]) -> None:
    """Raise unless the labelling run used ``expected``'s held-out split and labelled digits."""
    settings = run_data_settings(checkpoint)
    differ = [
        f"{name} {settings.get(name)!r} there, {expected[name]!r} here"
        for name in SHARED_DATA
        if settings.get(name) != expected[name]
    ]
    if differ:
        raise PseudoLabelError(
            f"pseudo_labels: {checkpoint} was trained on other data ({'; '.join(differ)}): its classifier may have "
            "seen this run's held-out digits or other labels. Train it with the same seed, val_size, "
            "labels_per_class and labels_seed."
        )


def load_classifier(checkpoint: Path) -> Any:
    """The trained task of ``checkpoint``, which must classify (``classify(images) -> logits``)."""
    from gan_lightning.commands.loading import load_module

    if not checkpoint.is_file():
        raise PseudoLabelError(f"pseudo_labels: {checkpoint} does not exist. Name a semi-supervised GAN's checkpoint.")
    module, _ = load_module(checkpoint, metrics=None)
    if not callable(getattr(module, "classify", None)):
        raise PseudoLabelError(
            f"pseudo_labels: {checkpoint} holds a {type(module).__name__}, which does not classify. Name the "
            "checkpoint of a semi-supervised GAN (configs/semi_supervised_conv.yaml)."
        )
    return module


@torch.no_grad()
def pseudo_label(checkpoint: Path, images: Tensor, batch_size: int = 500) -> tuple[Tensor, Tensor]:
    """The classifier's label for each image and its probability (its confidence). Building the
    classifier draws initial weights: the caller's random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        module = load_classifier(checkpoint)
    try:
        logits = torch.cat([module.classify(batch).cpu() for batch in images.split(batch_size)])
    except RuntimeError as error:
        raise PseudoLabelError(
            f"pseudo_labels: the classifier of {checkpoint} cannot read images of shape {tuple(images.shape[1:])} "
            "(trained on another image_size or channels?). Train it on the same data settings."
        ) from error
    confidence, labels = logits.softmax(dim=1).max(dim=1)
    return labels, confidence
