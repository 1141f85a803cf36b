"""Gradient penalties: exact values on critics whose input gradient is known."""

import lightning.pytorch as pl
import pytest
import torch

from gan_lightning.callbacks import RegularizerAnnealing
from gan_lightning.regularizers import DiscriminatorBatch, GradientPenalty, R1Penalty, R2Penalty


def linear_critic(weight: torch.Tensor):
    return lambda x: (x.flatten(1) * weight.flatten()).sum(dim=1)


def batch_for(critic, shape=(6, 1, 2, 2)) -> DiscriminatorBatch:
    return DiscriminatorBatch(discriminator=critic, real=torch.randn(shape), fake=torch.randn(shape))


def test_gradient_penalty_on_linear_critic_is_exact():
    weight = torch.tensor([3.0, 0.0, 4.0, 0.0])  # ‖∇D‖ = 5 everywhere
    penalty = GradientPenalty(weight=10.0).penalty(batch_for(linear_critic(weight)))
    assert penalty.item() == pytest.approx((5.0 - 1.0) ** 2)


def test_gradient_penalty_uses_one_alpha_per_sample():
    """Interpolates lie on the real–fake segment with the same α for all pixels of a
    sample (eriklindernoren/PyTorch-GAN#5 drew α per pixel)."""
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return x.flatten(1).sum(dim=1)

    batch = batch_for(critic, shape=(5, 3, 4, 4))
    GradientPenalty().penalty(batch)
    interpolates = seen[0]
    alphas = (interpolates - batch.fake) / (batch.real - batch.fake)
    per_sample = alphas.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4)
    assert per_sample[:, 0].std() > 0  # different samples, different α
    assert ((per_sample >= 0) & (per_sample <= 1)).all()


def test_gradient_penalty_gradient_reaches_the_critic_weights():
    critic = torch.nn.Linear(4, 1)
    batch = DiscriminatorBatch(lambda x: critic(x).flatten(), torch.randn(8, 4), torch.randn(8, 4))
    GradientPenalty().penalty(batch).backward()
    assert critic.weight.grad is not None and critic.weight.grad.abs().sum() > 0


def test_r1_is_half_squared_gradient_norm_on_real_data():
    weight = torch.tensor([1.0, 2.0, 2.0, 0.0])  # ‖∇D‖² = 9
    seen = []

    def critic(x):
        seen.append(x.detach())
        return linear_critic(weight)(x)

    batch = batch_for(critic)
    assert R1Penalty().penalty(batch).item() == pytest.approx(4.5)
    assert torch.equal(seen[-1], batch.real)
    R2Penalty().penalty(batch)
    assert torch.equal(seen[-1], batch.fake)


def test_lazy_interval_scales_the_weight_and_skips_steps():
    reg = R1Penalty(weight=2.0, interval=4)
    assert [reg.is_due(step) for step in range(5)] == [True, False, False, False, True]
    weight = torch.tensor([1.0, 0.0, 0.0, 0.0])
    term, value = reg(batch_for(linear_critic(weight)))
    assert value.item() == pytest.approx(0.5)
    assert term.item() == pytest.approx(0.5 * 2.0 * 4)


def test_invalid_settings_are_rejected():
    with pytest.raises(ValueError, match="interval"):
        R1Penalty(interval=0)
    with pytest.raises(ValueError, match="weight"):
        GradientPenalty(weight=-1)


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
