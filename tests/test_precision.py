"""Mixed precision with manual optimization and input-gradient penalties.

``torch.autograd.grad`` inside autocast computes ∇D in low precision, and under a
GradScaler it is not scaled (pytorch/pytorch#25081). The penalties compute ∇D in fp32 with
autocast off; these tests hold them to the fp32 value. CPU bf16 is slow: tiny nets only.
"""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import DCGANDiscriminator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.regularizers import DiscriminatorBatch, GradientPenalty, R1Penalty


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


def test_bf16_mixed_training_with_penalties(make_gan, make_trainer, tiny_data):
    model = make_gan(objective=WassersteinLoss(), regularizers=[GradientPenalty(), R1Penalty(interval=2)], n_critic=2)
    before = [p.detach().clone() for p in model.parameters()]
    trainer = make_trainer(max_steps=2, precision="bf16-mixed")
    trainer.fit(model, datamodule=tiny_data)
    metrics = trainer.callback_metrics
    assert trainer.global_step == 2
    for name in ("train/d_loss", "train/g_loss", "train/GradientPenalty"):
        assert torch.isfinite(metrics[name]), name
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay fp32
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize(("config", "precision"), [("bf16.yaml", "bf16-mixed"), ("fp16.yaml", "16-mixed")])
def test_precision_configs_compose_with_an_experiment(config, precision):
    from gan_lightning.cli import GANLightningCLI
    from tests.conftest import REPO_ROOT

    cli = GANLightningCLI(
        args=[
            "--config",
            str(REPO_ROOT / "configs/wgan.yaml"),
            "--config",
            str(REPO_ROOT / "configs/trainer" / config),
        ],
        run=False,
    )
    assert cli.config.trainer.precision == precision  # (on CPU Lightning turns 16-mixed into bf16-mixed)
