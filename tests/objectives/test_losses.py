"""Adversarial objectives: known values, signs and gradient behaviour."""

import math

import pytest
import torch

from gan_lightning.objectives import HingeLoss, LeastSquaresLoss, MinimaxLoss, NonSaturatingLoss, WassersteinLoss

LOG2 = math.log(2.0)


def test_non_saturating_at_chance_level():
    zeros = torch.zeros(8)
    loss = NonSaturatingLoss()
    assert loss.discriminator_loss(zeros, zeros).item() == pytest.approx(2 * LOG2)
    assert loss.generator_loss(zeros).item() == pytest.approx(LOG2)


def test_non_saturating_matches_bce_on_probabilities():
    real, fake = torch.randn(16), torch.randn(16)
    p_real, p_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected = -(torch.log(p_real).mean() + torch.log(1 - p_fake).mean())
    assert NonSaturatingLoss().discriminator_loss(real, fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert NonSaturatingLoss().generator_loss(fake).item() == pytest.approx(-torch.log(p_fake).mean().item(), rel=1e-5)


def test_label_smoothing_changes_only_the_real_target():
    real, fake = torch.full((4,), 5.0), torch.zeros(4)
    plain = NonSaturatingLoss().discriminator_loss(real, fake)
    smoothed = NonSaturatingLoss(label_smoothing=0.1).discriminator_loss(real, fake)
    assert smoothed > plain  # a very confident D is now penalised
    with pytest.raises(ValueError, match="label_smoothing"):
        NonSaturatingLoss(label_smoothing=1.0)


def test_minimax_generator_gradient_vanishes_when_d_rejects_fakes():
    """The reason the non-saturating loss exists (Goodfellow et al. 2014, Sec. 3)."""
    confident_reject = torch.full((4,), -10.0, requires_grad=True)
    MinimaxLoss().generator_loss(confident_reject).backward()
    minimax_grad = confident_reject.grad.abs().max().item()
    confident_reject.grad = None
    NonSaturatingLoss().generator_loss(confident_reject).backward()
    non_saturating_grad = confident_reject.grad.abs().max().item()
    assert minimax_grad < 1e-4 * non_saturating_grad
    assert MinimaxLoss().generator_loss(torch.zeros(3)).item() == pytest.approx(-LOG2)


def test_wasserstein_values_and_signs():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 0.0])
    loss = WassersteinLoss()
    assert loss.discriminator_loss(real, fake).item() == pytest.approx(-0.5 - 2.0)
    assert loss.generator_loss(fake).item() == pytest.approx(0.5)


def test_wasserstein_weight_clipping_clamps_every_parameter():
    critic = torch.nn.Linear(4, 1)
    torch.nn.init.uniform_(critic.weight, -1, 1)
    WassersteinLoss(clip_value=0.01).after_discriminator_step(critic)
    assert all(p.abs().max() <= 0.01 for p in critic.parameters())
    untouched = torch.nn.Linear(4, 1)
    before = untouched.weight.clone()
    WassersteinLoss().after_discriminator_step(untouched)
    assert torch.equal(before, untouched.weight)
    with pytest.raises(ValueError, match="clip_value"):
        WassersteinLoss(clip_value=-1)


def test_hinge_known_values():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.0])
    assert HingeLoss().discriminator_loss(real, fake).item() == pytest.approx(1.0)
    assert HingeLoss().generator_loss(fake).item() == pytest.approx(1.0)


def test_least_squares_is_zero_at_its_targets():
    ones, zeros = torch.ones(4), torch.zeros(4)
    loss = LeastSquaresLoss()
    assert loss.discriminator_loss(ones, zeros).item() == 0.0
    assert loss.generator_loss(ones).item() == 0.0
    assert loss.discriminator_loss(zeros, ones).item() == pytest.approx(1.0)


def test_readout_is_probability_only_for_classifier_objectives():
    logits = torch.tensor([0.0, 100.0])
    assert torch.allclose(NonSaturatingLoss().readout(logits), torch.tensor([0.5, 1.0]))
    assert torch.equal(WassersteinLoss().readout(logits), logits)


@pytest.mark.parametrize(
    "objective", [NonSaturatingLoss(), MinimaxLoss(), WassersteinLoss(), HingeLoss(), LeastSquaresLoss()]
)
def test_losses_are_exact_under_autocast(objective):
    """Logit-based losses run under bf16 autocast (sigmoid + BCE is rejected there)."""
    real, fake = torch.randn(8), torch.randn(8)
    expected = objective.discriminator_loss(real, fake)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = objective.discriminator_loss(real.bfloat16(), fake.bfloat16())
    assert got.float().item() == pytest.approx(expected.item(), abs=0.05)
