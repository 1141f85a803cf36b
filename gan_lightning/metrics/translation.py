"""Scores of a paired translation (pix2pix and its kin): how far the output is from the target,
beside what two translators that ignore the input would score.

A number like "L1 = 0.12" says nothing alone. Two baselines bound it from above: the
*identity* (the source returned as the output: what a generator that learnt nothing copies)
and the *mean target* (the average training target returned for every source: what L1 alone
drives a generator towards when the source carries no information). A translator worth its
training beats both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.metrics.base import TaskMetrics, datamodule_of

MEAN_TARGET_ITEMS = 512  # training targets averaged for the mean-image baseline (all of an in-memory set)


def mean_target(dataset: Dataset, limit: int = MEAN_TARGET_ITEMS) -> Tensor:
    """Mean target image of a paired training set: all of an in-memory set, else ``limit``
    evenly spaced items (reading a large folder at every start would be slow)."""
    tensors = getattr(dataset, "tensors", None)
    if isinstance(tensors, dict) and "target" in tensors:
        return tensors["target"].float().mean(dim=0)
    size = len(dataset)  # type: ignore[arg-type]
    indices = torch.linspace(0, size - 1, min(size, limit)).round().long().unique().tolist()
    return torch.stack([dataset[i]["target"].float() for i in indices]).mean(dim=0)


class TranslationScores(TaskMetrics):
    """L1 of ``outputs["output"]`` to ``batch["target"]`` (``val/l1``), beside the identity
    baseline (``val/l1_identity``: the source itself, when it has the target's shape) and the
    mean-target baseline (``val/l1_mean``: the mean training target of the trainer's data
    module, read once at the first held-out batch; absent without a data module's ``train_set``).

    Args:
        mean_target_items: training targets averaged for the mean target when the training
            set is not in memory (evenly spaced; an in-memory set is averaged whole).
    """

    def __init__(self, mean_target_items: int = MEAN_TARGET_ITEMS) -> None:
        super().__init__()
        if mean_target_items < 1:
            raise ValueError(f"mean_target_items must be >= 1, got {mean_target_items}.")
        self.mean_target_items = mean_target_items
        self._mean_target: Tensor | None = None  # not state: read again from the data after a resume
        self._looked_for_mean = False

    def mean_target(self, task: Any) -> Tensor | None:
        """The mean training target, taken from the data module the first time it is asked for."""
        if not self._looked_for_mean:
            self._looked_for_mean = True
            train = getattr(datamodule_of(task), "train_set", None)
            if train is not None and len(train):
                self._mean_target = mean_target(train, self.mean_target_items)
        return self._mean_target

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        source, target = batch["source"], batch["target"].float()
        output = outputs["output"].float()
        scores = {"l1": F.l1_loss(output, target)}
        if source.shape == target.shape:
            scores["l1_identity"] = F.l1_loss(source.float(), target)
        mean = self.mean_target(task)
        if mean is not None and mean.shape == target.shape[1:]:
            scores["l1_mean"] = F.l1_loss(mean.to(target.device).expand_as(target), target)
        return scores
