"""The GAN task as the papers specify it: fresh critic batches, lazy regularization with its
optimizer correction, generator-side regularizers, diagnostics that compare like with like,
and sampling that never moves the training RNG (so resume stays exact with noise inputs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from gan_lightning.callbacks import SampleGrid
from gan_lightning.data import Digits8x8DataModule
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator, StyleGAN2Generator
from gan_lightning.regularizers import GradientPenalty, ModeSeekingPenalty, PathLengthPenalty, R1Penalty
from gan_lightning.tasks import GAN
from tests.conftest import assert_same_state, tiny_gan, tiny_trainer, with_optimization

TRAIN = 64  # training digits: Digits8x8 with the rest held out


def digits(batch_size: int = 16) -> Digits8x8DataModule:
    return Digits8x8DataModule(batch_size=batch_size, val_size=1797 - TRAIN)


class RealBatches(pl.Callback):
    """The real samples each critic update saw (sums of its chunk)."""

    def __init__(self) -> None:
        self.chunks: list[list[float]] = []

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: Any, batch: Any, batch_idx: int) -> None:
        real, labels = batch
        self.chunks.append([float(r.sum()) for r, _ in pl_module.critic_batches(real, labels)])


# ---------------------------------------------------------------------- fresh real batches
def test_each_critic_update_sees_a_fresh_real_batch(tmp_path: Path) -> None:
    seen = RealBatches()
    model = tiny_gan(n_critic=2)
    run = tiny_trainer(tmp_path, max_steps=2, callbacks=[seen])
    run.fit(model, datamodule=digits(batch_size=16))
    assert len(seen.chunks) == 2 and all(len(chunks) == 2 for chunks in seen.chunks)
    flat = [s for chunks in seen.chunks for s in chunks]
    assert len(set(flat)) == 4, "a real batch was shown to two critic updates"
    # an epoch is one pass of the critic: 64 samples / (2 updates × 16) = 2 iterations
    assert run.num_training_batches == TRAIN // (2 * 16)


def test_reuse_shows_one_real_batch_to_all_critic_updates(tmp_path: Path) -> None:
    seen = RealBatches()
    run = tiny_trainer(tmp_path, max_steps=1, callbacks=[seen])
    run.fit(tiny_gan(n_critic=3, real_batches="reuse"), datamodule=digits())
    assert len(set(seen.chunks[0])) == 1 and len(seen.chunks[0]) == 3
    assert run.num_training_batches == TRAIN // 16


def test_fresh_batches_that_do_not_fit_the_data_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_critic fresh batches"):
        tiny_trainer(tmp_path, max_steps=1).fit(tiny_gan(n_critic=5), datamodule=digits(batch_size=16))


# ---------------------------------------------------------------------- lazy regularization
def test_lazy_regularizer_gets_its_own_step_and_the_optimizer_correction(tmp_path: Path) -> None:
    adam = lambda params: torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.99))  # noqa: E731
    model = tiny_gan(regularizers=[R1Penalty(weight=1.0, interval=4)], discriminator_optimizer=adam)
    _, optimizer_d = model.configure_optimizers()
    ratio = 4 / 5
    assert optimizer_d.param_groups[0]["lr"] == pytest.approx(1e-3 * ratio)
    assert optimizer_d.param_groups[0]["betas"] == pytest.approx((0.5**ratio, 0.99**ratio))

    steps: list[int] = []
    model.on_before_optimizer_step = lambda opt: steps.append(model._pending_step.role[0])  # type: ignore[method-assign]
    tiny_trainer(tmp_path, max_steps=5).fit(model, datamodule=digits())
    # D updates 0 and 4 are followed by a D-reg step of their own; G reg absent
    assert steps == ["d", "d", "g"] + ["d", "g"] * 3 + ["d", "d", "g"]


def test_every_step_regularizer_leaves_the_optimizer_alone() -> None:
    adam = lambda params: torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.99))  # noqa: E731
    _, optimizer_d = tiny_gan(regularizers=[GradientPenalty()], discriminator_optimizer=adam).configure_optimizers()
    assert optimizer_d.param_groups[0]["lr"] == 1e-3 and optimizer_d.param_groups[0]["betas"] == (0.5, 0.99)


def test_lazy_regularizers_of_one_network_must_share_the_interval() -> None:
    with pytest.raises(ValueError, match="same interval"):
        tiny_gan(regularizers=[R1Penalty(interval=4), GradientPenalty(interval=16)])


# ---------------------------------------------------------------------- generator regularizers
def tiny_stylegan(**overrides: Any) -> GAN:
    kwargs: dict[str, Any] = {
        "generator": StyleGAN2Generator(latent_dim=8, image_size=8, channels=1, width=8, w_dim=8, mapping_layers=2),
        "discriminator": DCGANDiscriminator(image_size=8, channels=1, base_width=4, norm="none"),
        "num_fixed": 4,
    }
    kwargs.update(overrides)
    return GAN(**with_optimization(kwargs))


def test_path_length_penalty_runs_lazily_and_keeps_its_mean_in_the_checkpoint(tmp_path: Path) -> None:
    penalty = PathLengthPenalty(weight=2.0, interval=2)
    model = tiny_stylegan(generator_regularizers=[penalty])
    steps: list[str] = []
    model.on_before_optimizer_step = lambda opt: steps.append(model._pending_step.role[0])  # type: ignore[method-assign]
    run = tiny_trainer(tmp_path, max_steps=3)
    run.fit(model, datamodule=digits())
    assert steps == ["d", "g", "g", "d", "g", "d", "g", "g"]  # G reg after iterations 0 and 2
    assert run.global_step == 3, "the G-reg step must not count as an iteration"
    assert float(penalty.mean_length) > 0
    assert "generator_regularizers.0.mean_length" in model.state_dict()


def test_path_length_gradient_reaches_the_generator() -> None:
    model = tiny_stylegan()
    from gan_lightning.regularizers import GeneratorBatch

    latent = torch.randn(4, 8)
    batch = GeneratorBatch(model.generator, lambda z: model.generator(z), latent)
    term, value = PathLengthPenalty(interval=1, batch_shrink=1, mean_decay=1.0)(batch)
    term.backward()
    # with mean_decay 1 the running mean equals this batch's mean: the penalty is the lengths' variance
    assert value >= 0 and any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.parameters())


def test_mode_seeking_is_a_generator_phase_term(tmp_path: Path) -> None:
    model = tiny_gan(generator_regularizers=[ModeSeekingPenalty(weight=0.5)])
    logged: dict[str, Any] = {}
    model.log_dict = lambda values, **kw: logged.update(values)  # type: ignore[method-assign]
    tiny_trainer(tmp_path, max_steps=1).fit(model, datamodule=digits())
    assert "train/ModeSeekingPenalty" in logged


# ---------------------------------------------------------------------- held-out diagnostics
def test_held_out_scores_use_training_mode_and_change_nothing(tmp_path: Path) -> None:
    model = GAN(
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=4),
        discriminator=torch.nn.Sequential(  # a BatchNorm D: train and eval mode differ
            torch.nn.Flatten(),
            torch.nn.Linear(64, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(16, 1),
            torch.nn.Flatten(0),
        ),
        num_fixed=4,
    )
    run = tiny_trainer(tmp_path, max_steps=2, limit_val_batches=0)
    run.fit(model, datamodule=digits())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    results = tiny_trainer(tmp_path, max_steps=2).validate(model, datamodule=digits(), verbose=False)[0]
    assert_same_state(model.state_dict(), before, "validation changed the model")
    assert torch.equal(torch.get_rng_state(), rng)
    assert {"val/D(x)", "val/D(x_train)", "val/D(x)_gap"} <= results.keys()
    assert results["val/D(x)_gap"] == pytest.approx(results["val/D(x_train)"] - results["val/D(x)"], abs=1e-6)

    # the same function as in training: D in training mode (batch statistics), raw G
    real = digits().val_dataloader().dataset.tensors[0][:16]
    with torch.no_grad():
        model.discriminator.train()
        torch.manual_seed(0)
        expected = torch.sigmoid(model.discriminator(real)).mean()
        model.discriminator.eval()
        in_eval_mode = torch.sigmoid(model.discriminator(real)).mean()
    scores = model.held_out_diagnostics((real, torch.zeros(16, dtype=torch.long)), {})
    assert scores["D(x)"] == pytest.approx(float(expected), abs=1e-6)
    assert abs(float(expected) - float(in_eval_mode)) > 1e-4, "BatchNorm should make the modes differ"


# ---------------------------------------------------------------------- RNG and exact resume
def test_sampling_never_moves_the_training_rng_and_repeats_its_noise_inputs() -> None:
    model = tiny_stylegan()
    state = torch.get_rng_state()
    first = model.sample_fixed()
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, model.sample_fixed()), "fixed grids must repeat their noise inputs"


# 2 iterations per epoch (64 digits, n_critic=2 fresh batches of 16): three epochs. Checkpoints:
# mid-epoch (step 3), at an epoch boundary (step 4), after a validation at an epoch boundary
# (steps 2 and 4, "epoch-end" for this data), each with a StyleGAN2 generator whose noise inputs
# and style mixing draw random numbers, and sample grids drawn at every epoch end.
# (Checkpoints written from Lightning's own on_train_epoch_end hook restart the epoch loop one
# batch early; the CLI writes step and validation checkpoints only — docs/troubleshooting.md.)
MAX_STEPS = 6


def stylegan_run(folder: Path, checkpoints: bool) -> tuple[pl.Trainer, GAN]:
    torch.set_num_threads(1)
    pl.seed_everything(0)
    model = tiny_stylegan(n_critic=2, regularizers=[GradientPenalty(weight=1.0)], ema_kimg=0.05)
    callbacks: list[pl.Callback] = [SampleGrid(every_n_epochs=1)]
    if checkpoints:
        callbacks += [
            ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=1, save_top_k=-1),
            ModelCheckpoint(dirpath=folder, filename="val-{step}", monitor="val/d_loss", save_top_k=-1),
        ]
    # validation (and the monitored checkpoint) every 2 iterations, across epochs, as the CLI's defaults do
    run = tiny_trainer(folder, MAX_STEPS, callbacks, val_check_interval=2, check_val_every_n_epoch=None)
    return run, model


@pytest.fixture(scope="module")
def uninterrupted_stylegan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("stylegan")
    run, model = stylegan_run(folder, checkpoints=True)
    run.fit(model, datamodule=digits())
    return {"folder": folder, "state": model.state_dict(), "rng": torch.get_rng_state()}


@pytest.mark.parametrize("checkpoint", ["step=3.ckpt", "step=4.ckpt", "val-step=2.ckpt", "val-step=4.ckpt"])
def test_noise_injecting_generator_resumes_exactly_from_step_and_validation_checkpoints(
    uninterrupted_stylegan: dict[str, Any], tmp_path: Path, checkpoint: str
) -> None:
    run, model = stylegan_run(tmp_path, checkpoints=False)
    run.fit(model, datamodule=digits(), ckpt_path=uninterrupted_stylegan["folder"] / checkpoint)
    assert_same_state(model.state_dict(), uninterrupted_stylegan["state"], "model")
    assert torch.equal(torch.get_rng_state(), uninterrupted_stylegan["rng"])


def test_sample_grids_do_not_change_the_training_trajectory(tmp_path: Path) -> None:
    states = []
    for every in (1, None):
        pl.seed_everything(0)
        model = tiny_stylegan()
        tiny_trainer(tmp_path / str(every), 5, [SampleGrid(every_n_epochs=every)], limit_val_batches=0).fit(
            model, datamodule=digits()
        )
        states.append(model.state_dict())
    assert_same_state(states[0], states[1], "a sample grid moved the weights")
