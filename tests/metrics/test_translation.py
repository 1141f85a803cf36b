"""Translation scores: held-out L1 beside its identity (and, with a data module, mean-target) baseline."""

from __future__ import annotations

import torch
from lightning.pytorch import LightningModule

from gan_lightning.metrics import (
    TranslationScores,
)


def test_translation_scores_without_a_data_module_leave_out_the_mean_target_baseline():
    batch = {"source": torch.zeros(2, 1, 4, 4), "target": torch.ones(2, 1, 4, 4)}
    scores = TranslationScores().update(LightningModule(), batch, {"output": torch.full((2, 1, 4, 4), 0.5)})
    assert {name: float(value) for name, value in scores.items()} == {"l1": 0.5, "l1_identity": 1.0}
