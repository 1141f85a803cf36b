"""Gradient penalties (WGAN-GP, R1, R2): exact values on critics whose input gradient is known,
and the fp32 values under mixed precision.

``torch.autograd.grad`` inside autocast computes ∇D in low precision, and under a GradScaler it
is not scaled (pytorch/pytorch#25081). The penalties compute ∇D in fp32 with autocast off; the
precision tests hold them to the fp32 value. CPU bf16 is slow: tiny nets only.
"""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import DCGANDiscriminator
from gan_lightning.objectives import WassersteinLoss
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


def _batch(discriminator: torch.nn.Module) -> DiscriminatorBatch:
    generator = torch.Generator().manual_seed(0)
    real = torch.rand(8, 1, 8, 8, generator=generator) * 2 - 1
    fake = torch.rand(8, 1, 8, 8, generator=generator) * 2 - 1
    return DiscriminatorBatch(discriminator=discriminator, real=real, fake=fake)


def _discriminator() -> torch.nn.Module:
    torch.manual_seed(0)
    return DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none")


def _penalty_and_grads(regularizer, autocast_dtype: torch.dtype | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    discriminator = _discriminator()
    torch.manual_seed(1)  # the same interpolation weights in both runs
    with torch.autocast("cpu", dtype=autocast_dtype or torch.bfloat16, enabled=autocast_dtype is not None):
        term, value = regularizer(_batch(discriminator))
    term.backward()
    # the last bias does not change ∇ₓD, so it gets no gradient from a penalty alone
    return value, [p.grad.clone() for p in discriminator.parameters() if p.grad is not None]


@pytest.mark.parametrize("regularizer", [GradientPenalty(weight=10.0), R1Penalty(weight=10.0)], ids=repr)
def test_penalty_under_bf16_autocast_equals_fp32(regularizer):
    reference, reference_grads = _penalty_and_grads(regularizer, None)
    value, grads = _penalty_and_grads(regularizer, torch.bfloat16)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value, reference, rtol=1e-6, atol=0)
    for grad, expected in zip(grads, reference_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-7)


def test_penalty_under_fp16_autocast_and_grad_scaler_equals_fp32():
    """The 16-mixed GPU path: autocast fp16 plus a GradScaler (scale 2¹⁰). After
    unscaling, D's gradients (adversarial loss + penalty) equal the fp32 ones up to fp16
    rounding of the adversarial part, and the penalty value is unaffected by the scale."""
    objective, penalty = WassersteinLoss(), GradientPenalty(weight=10.0)

    def step(mixed: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        discriminator = _discriminator()
        optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.0)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, enabled=mixed)
        batch = _batch(discriminator)
        torch.manual_seed(1)
        with torch.autocast("cpu", dtype=torch.float16, enabled=mixed):
            loss = objective.discriminator_loss(discriminator(batch.real), discriminator(batch.fake))
            term, value = penalty(batch)
            loss = loss.float() + term
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        return value, [p.grad.clone() for p in discriminator.parameters()]

    reference, reference_grads = step(mixed=False)
    value, grads = step(mixed=True)
    torch.testing.assert_close(value, reference, rtol=1e-6, atol=0)
    for grad, expected in zip(grads, reference_grads, strict=True):
        torch.testing.assert_close(grad, expected, rtol=2e-2, atol=2e-3)
