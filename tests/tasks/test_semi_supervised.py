"""SemiSupervisedGAN (Salimans et al. 2016, Sec. 3.1 and 5): the losses against the paper's
formulas on hand-worked cases, the fixed "generated" logit, feature matching's value, and the
classifier a short fit leaves (val/accuracy, classify, predict)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_lightning.networks import BatchNormMLPGenerator, NoisyMLPClassifier
from gan_lightning.tasks.semi_supervised import (
    SemiSupervisedGAN,
    feature_matching_loss,
    probability_real,
    supervised_loss,
    unsupervised_loss,
)

LN2, LN3 = math.log(2.0), math.log(3.0)


# ------------------------------------------------------------------ the losses, by hand
def test_supervised_loss_is_the_cross_entropy_of_the_real_classes():
    logits = torch.tensor([[0.0, LN3], [0.0, LN3]])  # p(y=1 | x, real) = 3/4, p(y=0 | x, real) = 1/4
    assert supervised_loss(logits, torch.tensor([1, 1])).item() == pytest.approx(math.log(4 / 3))
    assert supervised_loss(logits, torch.tensor([1, 0])).item() == pytest.approx((math.log(4 / 3) + math.log(4)) / 2)


def test_unsupervised_loss_is_the_papers_formula():
    """−E log(Z(x)/(Z(x)+1)) − E log(1/(Z(G(z))+1)): real Z = 2 and 4, fake Z = 3."""
    real = torch.tensor([[0.0, 0.0], [LN2, LN2]])  # Z = 1 + 1 = 2; Z = 2 + 2 = 4
    fake = torch.tensor([[0.0, LN2]])  # Z = 1 + 2 = 3
    expected = -(math.log(2 / 3) + math.log(4 / 5)) / 2 - math.log(1 / 4)
    assert unsupervised_loss(real, fake).item() == pytest.approx(expected)


def test_unsupervised_loss_is_stable_for_large_logits():
    """Z = e^1000 overflows a naive exp; the logsumexp/softplus forms give 0 and 1000."""
    huge = torch.tensor([[1000.0, 0.0]])
    assert unsupervised_loss(huge, torch.tensor([[-1000.0, -1000.0]])).item() == pytest.approx(0.0, abs=1e-6)
    assert unsupervised_loss(torch.tensor([[1000.0, 1000.0]]), huge).item() == pytest.approx(1000.0)


def test_the_generated_class_is_a_logit_fixed_at_zero():
    """Appending a 0 logit for "generated" and taking a (K+1)-way softmax gives the same losses and D(x)."""
    torch.manual_seed(0)
    real, fake = torch.randn(5, 10) * 3, torch.randn(4, 10) * 3
    with_zero = lambda logits: torch.cat([logits, torch.zeros(len(logits), 1)], dim=1)  # noqa: E731
    p_fake_real = F.softmax(with_zero(real), dim=1)[:, -1]
    p_fake_fake = F.softmax(with_zero(fake), dim=1)[:, -1]
    expected = -torch.log(1 - p_fake_real).mean() - torch.log(p_fake_fake).mean()
    assert unsupervised_loss(real, fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(probability_real(real), 1 - p_fake_real, atol=1e-6)
    # Not shift-invariant: raising every class logit makes a sample look more real.
    assert probability_real(real + 1).gt(probability_real(real)).all()
    labels = torch.randint(10, (5,))
    assert supervised_loss(real + 7, labels).item() == pytest.approx(supervised_loss(real, labels).item(), rel=1e-5)


def test_feature_matching_is_the_squared_distance_of_the_batch_means():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]])  # mean (1, 1)
    assert feature_matching_loss(real, fake).item() == pytest.approx((1.0**2 + 2.0**2) / 2)  # per feature
    assert feature_matching_loss(real, real.flip(0)).item() == 0.0  # only the means are matched


# ------------------------------------------------------------------ the task
def tiny_ssl(**overrides) -> SemiSupervisedGAN:
    kwargs = {
        "generator": BatchNormMLPGenerator(latent_dim=8, hidden_dims=(16,)),
        "discriminator": NoisyMLPClassifier(hidden_dims=(32, 16)),
        "num_fixed": 10,
    }
    return SemiSupervisedGAN(**(kwargs | overrides))


def tiny_digits(batch_size: int = 20):
    from gan_lightning.mnist import MNIST5kSemiSupervisedDataModule

    return MNIST5kSemiSupervisedDataModule(labels_per_class=2, batch_size=batch_size)


def test_discriminator_loss_adds_the_weighted_unsupervised_term():
    torch.manual_seed(0)
    model = tiny_ssl(unsupervised_weight=0.5)
    model.discriminator.eval()  # no noise: the same logits inside and outside the loss
    labelled, unlabelled, fake = torch.randn(3, 4, 1, 28, 28).unbind(0)
    labels = torch.tensor([0, 1, 2, 3])
    loss, stats = model.discriminator_step_loss(labelled, labels, unlabelled, fake)
    d = model.discriminator
    expected = supervised_loss(d(labelled), labels) + 0.5 * unsupervised_loss(d(unlabelled), d(fake))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert stats["d_unsupervised"].item() == pytest.approx(unsupervised_loss(d(unlabelled), d(fake)).item(), rel=1e-6)


def test_labelled_augment_shifts_only_the_labelled_batch():
    from gan_lightning.augment import DiffAugment

    torch.manual_seed(0)
    model = tiny_ssl(labelled_augment=DiffAugment(["translation"], translation_ratio=0.125))
    model.discriminator.eval()
    labelled, unlabelled, fake = torch.randn(3, 8, 1, 28, 28).unbind(0)
    labels = torch.arange(8)
    d = model.discriminator
    torch.manual_seed(1)
    loss, stats = model.discriminator_step_loss(labelled, labels, unlabelled, fake)
    torch.manual_seed(1)
    shifted = model.labelled_augment(labelled)
    assert not torch.equal(shifted, labelled)
    expected = supervised_loss(d(shifted), labels) + unsupervised_loss(d(unlabelled), d(fake))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert stats["d_unsupervised"].item() == pytest.approx(unsupervised_loss(d(unlabelled), d(fake)).item(), rel=1e-6)
    assert torch.equal(tiny_ssl().augmented_labelled(labelled), labelled)  # off by default


def test_a_short_fit_logs_held_out_accuracy_and_leaves_a_classifier(make_trainer):
    model, data = tiny_ssl(), tiny_digits()
    make_trainer(max_steps=3, val_check_interval=3).fit(model, data)
    held_out_images, held_out_labels = next(iter(data.val_dataloader()))  # tiny_trainer validates one batch
    before = [p.detach().clone() for p in model.discriminator.parameters()]
    logits = model.classify(held_out_images)
    accuracy = (logits.argmax(1) == held_out_labels).float().mean()
    assert model.trainer.callback_metrics["val/accuracy"].item() == pytest.approx(accuracy.item())
    assert {"train/d_supervised", "train/d_unsupervised", "train/g_loss"} <= model.trainer.callback_metrics.keys()
    assert torch.equal(model.classify(held_out_images), logits)  # eval mode: no noise, deterministic
    assert all(torch.equal(a, b) for a, b in zip(before, model.discriminator.parameters(), strict=True))
    assert model.discriminator.training  # classify put the training mode back
    assert torch.equal(model.predict_step((held_out_images, held_out_labels), 0), logits.argmax(1))
    assert model.offers("classify") and model.offers("sample")


def test_both_networks_learn_from_their_own_loss(make_trainer):
    model = tiny_ssl()
    generator_before = [p.detach().clone() for p in model.generator.parameters()]
    discriminator_before = [p.detach().clone() for p in model.discriminator.parameters()]
    make_trainer(max_steps=1, limit_val_batches=0).fit(model, tiny_digits())
    changed = lambda before, net: all(not torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))  # noqa: E731
    assert changed(generator_before, model.generator)
    assert changed(discriminator_before, model.discriminator)


def test_semi_supervised_gan_explains_what_it_needs():
    from gan_lightning.networks import MLPDiscriminator

    with pytest.raises(ValueError, match="classifier discriminator"):
        tiny_ssl(discriminator=MLPDiscriminator())
    with pytest.raises(ValueError, match="unsupervised_weight"):
        tiny_ssl(unsupervised_weight=-1.0)


def test_tasks_without_a_classifier_say_so(make_gan):
    from gan_lightning.errors import CapabilityError

    gan = make_gan()
    assert not gan.offers("classify")
    with pytest.raises(CapabilityError, match="no classifier"):
        gan.classify(torch.zeros(1, 1, 8, 8))
