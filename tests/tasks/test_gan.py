"""The GAN LightningModule: phases, n_critic, global_step semantics, EMA, clipping, schedulers,
held-out scores and bf16 mixed precision with penalties."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.objectives import WassersteinLoss
from gan_lightning.regularizers import GradientPenalty, R1Penalty
from gan_lightning.tasks import GAN
from tests.conftest import TinyData, tiny_gan, with_optimization


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(before: list[torch.Tensor], module: nn.Module) -> bool:
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


class RecordingGAN(GAN):
    """Records, at every optimizer step, which networks carry gradients."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.steps: list[tuple[str, bool, bool]] = []
        self.post_clip_norms: list[float] = []

    def on_before_optimizer_step(self, optimizer):
        super().on_before_optimizer_step(optimizer)
        has_grad = lambda net: any(p.grad is not None for p in net.parameters())  # noqa: E731
        self.steps.append((self._pending_step.role[0], has_grad(self.generator), has_grad(self.discriminator)))
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        self.post_clip_norms.append(torch.nn.utils.get_total_norm(grads).item())


def recording_gan(**overrides) -> RecordingGAN:
    reference = tiny_gan()
    kwargs = {"generator": reference.generator, "discriminator": reference.discriminator, "num_fixed": 4}
    kwargs.update(overrides)
    return RecordingGAN(**with_optimization(kwargs))


def test_one_iteration_updates_both_networks_each_in_its_own_phase(make_trainer):
    model = recording_gan(n_critic=1)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    make_trainer(max_steps=1).fit(model, TinyData())
    assert changed(g_before, model.generator) and changed(d_before, model.discriminator)
    # D step: only D has gradients; G step: only G has gradients (D frozen by toggle_optimizer).
    assert model.steps == [("d", False, True), ("g", True, False)]


def test_n_critic_schedule_and_global_step_counts_generator_updates(make_trainer):
    model = recording_gan(n_critic=3)
    trainer = make_trainer(max_steps=2)
    trainer.fit(model, TinyData())
    assert [role for role, _, _ in model.steps] == ["d", "d", "d", "g"] * 2
    assert trainer.global_step == 2  # max_steps = generator updates, not 8 optimizer steps
    assert trainer.callback_metrics["train/d_steps"].item() == 6


def test_discriminator_step_does_not_move_the_generator(make_trainer):
    """With lr_g = 0, a whole iteration must leave G exactly as it was."""
    model = tiny_gan(generator_optimizer=lambda p: torch.optim.SGD(p, lr=0.0), n_critic=2)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    make_trainer(max_steps=1).fit(model, TinyData())
    assert not changed(g_before, model.generator)
    assert changed(d_before, model.discriminator)


def test_weight_clipping_holds_after_training(make_trainer):
    model = tiny_gan(objective=WassersteinLoss(clip_value=0.01), n_critic=2)
    make_trainer(max_steps=2).fit(model, TinyData())
    assert max(p.abs().max().item() for p in model.discriminator.parameters()) <= 0.01 + 1e-8


def test_gradient_clipping_bounds_each_network_norm(make_trainer):
    model = recording_gan(discriminator_clip_norm=1e-3, generator_clip_norm=2e-3, n_critic=1)
    trainer = make_trainer(max_steps=2)
    trainer.fit(model, TinyData())
    d_norms = [n for (role, _, _), n in zip(model.steps, model.post_clip_norms, strict=True) if role == "d"]
    g_norms = [n for (role, _, _), n in zip(model.steps, model.post_clip_norms, strict=True) if role == "g"]
    assert max(d_norms) <= 1e-3 * 1.01 and max(g_norms) <= 2e-3 * 1.01
    assert trainer.callback_metrics["train/grad_norm_d"].item() > 1e-3  # the logged norm is pre-clip


def test_regularizer_is_applied_and_logged(make_trainer):
    model = tiny_gan(objective=WassersteinLoss(), regularizers=[GradientPenalty(weight=10.0)])
    trainer = make_trainer(max_steps=1)
    trainer.fit(model, TinyData())
    metrics = trainer.callback_metrics
    for key in (
        "train/d_loss",
        "train/g_loss",
        "train/D(x)",
        "train/D(G(z))",
        "train/GradientPenalty",
        "train/grad_norm_d",
        "train/grad_norm_g",
        "train/lr_d",
        "train/lr_g",
    ):
        assert key in metrics, key
    assert metrics["train/GradientPenalty"].item() > 0


def test_schedulers_step_once_per_iteration(make_trainer):
    factory = lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)  # noqa: E731
    model = tiny_gan(
        generator_optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
        discriminator_optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
        generator_scheduler=factory,
        discriminator_scheduler=factory,
        n_critic=3,
    )
    make_trainer(max_steps=3).fit(model, TinyData())
    opt_g, opt_d = model.optimizers(use_pl_optimizer=False)
    assert opt_g.param_groups[0]["lr"] == pytest.approx(0.125)
    assert opt_d.param_groups[0]["lr"] == pytest.approx(0.125)  # per iteration, not per critic step


def test_plateau_scheduler_is_rejected_with_a_reason(make_trainer):
    model = tiny_gan(generator_scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt))
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        make_trainer(max_steps=1).fit(model, TinyData())


def test_ema_beta_of_a_run_depends_on_images_per_iteration(make_trainer):
    """Twice the batch, half the iterations: the same half-life in images."""
    model = tiny_gan(ema_kimg=1.0, ema_rampup=None)
    make_trainer(max_steps=1).fit(model, TinyData(batch_size=16))
    assert model.images_per_iteration(16) == 16


def test_ema_generator_follows_but_differs_from_the_generator(make_trainer):
    model = tiny_gan(ema_kimg=0.1)
    initial = snapshot(model.generator_ema)
    make_trainer(max_steps=3).fit(model, TinyData())
    assert changed(initial, model.generator_ema)
    assert changed(snapshot(model.generator), model.generator_ema)
    assert not any(p.requires_grad for p in model.generator_ema.parameters())
    assert model.sampling_generator is model.generator_ema


def test_ema_can_be_disabled():
    model = tiny_gan(ema_kimg=None)
    assert model.generator_ema is None and model.sampling_generator is model.generator


def test_fixed_samples_are_deterministic_and_seeded():
    model = tiny_gan(sample_seed=3)
    assert torch.equal(model.sample_fixed(), model.sample_fixed())
    assert torch.equal(model.fixed_latent, tiny_gan(sample_seed=3).fixed_latent)
    assert not torch.equal(model.fixed_latent, tiny_gan(sample_seed=4).fixed_latent)
    assert model.sample(5).shape == (5, 1, 8, 8)


def test_uniform_latent_is_bounded():
    z = tiny_gan(latent_distribution="uniform").sample_latent(1000)
    assert z.min() >= -1 and z.max() <= 1 and z.std() > 0.5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_critic": 0}, "n_critic"),
        ({"ema_kimg": -1.0}, "ema_kimg"),
        ({"real_batches": "sometimes"}, "real_batches"),
        ({"generator": nn.Linear(4, 4)}, "latent_dim"),
        ({"discriminator_clip_norm": 0.0}, "clip_norm"),
    ],
)
def test_invalid_arguments_fail_with_a_clear_message(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_gan(**overrides)


def test_generator_data_shape_mismatch_is_explained(make_trainer):
    model = tiny_gan()
    with pytest.raises(ValueError, match="generator makes samples of shape"):
        make_trainer(max_steps=1).fit(model, TinyData(shape=(3, 8, 8)))


def test_validate_and_test_log_held_out_scores_under_their_own_prefix(make_trainer):
    model, data = tiny_gan(), TinyData()
    trainer = make_trainer(max_steps=1)
    trainer.fit(model, data)
    assert {"val/d_loss", "val/D(x)", "val/D(G(z))"} <= set(trainer.validate(model, data)[0])
    assert {"test/d_loss", "test/D(x)", "test/D(G(z))"} <= set(trainer.test(model, data)[0])


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
