"""The contract of held-out evaluation: a part passed to a task, never code inside it.

A task says what it makes from a held-out batch (:meth:`AdversarialTask.held_out_outputs`:
a translation, images for captions, clips ...); a :class:`TaskMetrics` scores it. The task
logs what :meth:`TaskMetrics.update` returns per batch (Lightning averages it over the
held-out set and across processes) and what :meth:`TaskMetrics.compute` returns once per
validation, both as ``val/<name>``. Metrics compose: a config lists the ones it wants::

    metrics:
      - class_path: gan_lightning.metrics.TranslationScores
      - class_path: gan_lightning.mnist.DigitAccuracy

Generic scores live here (:class:`~gan_lightning.metrics.TranslationScores`,
:class:`~gan_lightning.metrics.RestorationScores`, :class:`~gan_lightning.metrics.ClipScores`,
:class:`~gan_lightning.metrics.GenerativeMetrics`); the MNIST demos' digit readers in
:mod:`gan_lightning.mnist`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn


class TaskMetrics(nn.Module):
    """Scores a task on held-out data. Subclasses override :meth:`update`, :meth:`compute` or both.

    Anything a metric does must leave training untouched: no draws from the global RNG outside
    a fork, no change to the task's networks (use the task's ``translate``/``sample``/
    ``held_out_outputs``, which run in a fork).
    """

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Scores of one held-out batch, by name (averaged over batches when logged)."""
        return {}

    def compute(self, task: Any) -> dict[str, Any]:
        """Scores of the whole held-out set (FID ...), once per validation; collective under DDP."""
        return {}


def as_metric_list(metrics: TaskMetrics | list[TaskMetrics] | None) -> nn.ModuleList:
    """``metrics=`` as given in a config (one, a list, or none) as a module list."""
    if metrics is None:
        return nn.ModuleList()
    items = list(metrics) if isinstance(metrics, list | tuple) else [metrics]
    for item in items:
        if not callable(getattr(item, "update", None)) or not callable(getattr(item, "compute", None)):
            raise ValueError(
                f"metrics: {type(item).__name__} is not a TaskMetrics (it needs update(task, batch, outputs) and "
                "compute(task)); subclass gan_lightning.metrics.TaskMetrics."
            )
    return nn.ModuleList(items)


def datamodule_of(task: Any) -> Any | None:
    """The data module of the trainer running ``task``; ``None`` without a trainer or when the
    data came as loaders. What a metric reads its reference from (the mean training target ...)."""
    try:
        trainer = task.trainer
    except RuntimeError:  # a LightningModule not attached to a Trainer
        return None
    return getattr(trainer, "datamodule", None)
