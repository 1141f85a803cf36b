"""RegularizerAnnealing: a penalty's weight decays geometrically over the second part of training
and is restored afterwards; it needs max_steps and a regularizer to anneal."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest

from gan_lightning.callbacks import RegularizerAnnealing
from gan_lightning.regularizers import R1Penalty


class _WeightRecorder(pl.Callback):
    """The R1 weight each training iteration runs with (after the annealing callback)."""

    def __init__(self) -> None:
        self.weights: list[float] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.weights.append(pl_module.regularizers[0].weight)


def test_regularizer_annealing_decays_the_weight_geometrically_over_the_second_part(make_trainer, make_gan, tiny_data):
    recorder = _WeightRecorder()
    annealing = RegularizerAnnealing(final_factor=0.01, start=0.5)
    trainer = make_trainer(max_steps=4, limit_val_batches=0, callbacks=[annealing, recorder])
    model = make_gan(regularizers=[R1Penalty(weight=2.0)])
    trainer.fit(model, tiny_data)
    # iterations 0-2 at or before half way keep γ = 2; iteration 3 is half way through the decay: 2 · 0.01^0.5
    assert recorder.weights == pytest.approx([2.0, 2.0, 2.0, 0.2])
    assert annealing.factor(4, 4) == pytest.approx(0.01)  # the schedule ends at final_factor
    assert model.regularizers[0].weight == 2.0  # restored: a later fit starts from the configured weight


def test_regularizer_annealing_needs_max_steps_and_something_to_anneal(make_trainer, make_gan, tiny_data):
    no_steps = make_trainer(max_steps=-1, max_epochs=1, limit_val_batches=0, callbacks=[RegularizerAnnealing()])
    with pytest.raises(ValueError, match="max_steps"):
        no_steps.fit(make_gan(regularizers=[R1Penalty()]), tiny_data)
    wrong_target = make_trainer(limit_val_batches=0, callbacks=[RegularizerAnnealing(targets=["GradientPenalty"])])
    with pytest.raises(ValueError, match="R1Penalty"):
        wrong_target.fit(make_gan(regularizers=[R1Penalty()]), tiny_data)
    with pytest.raises(ValueError, match="final_factor"):
        RegularizerAnnealing(final_factor=0.0)
