"""pix2pix (Isola et al. 2017): shapes, each loss term, held-out scores, strips, a short fit,
exact resume and the config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.config_errors import ConfigurationError
from gan_lightning.data.translation import TensorDictDataset, TranslationDataModule
from gan_lightning.errors import CapabilityError
from gan_lightning.metrics import TranslationScores
from gan_lightning.mnist import DigitAccuracy, digit_accuracy, mnist5k_digits
from gan_lightning.mnist.pairs import edge_map
from gan_lightning.networks import PatchDiscriminator, UNetGenerator
from gan_lightning.tasks import Pix2Pix
from tests.conftest import (
    REPO_ROOT,
    assert_same_end_of_training,
    assert_same_state,
    end_of_training,
    every_step_checkpoints,
    tiny_trainer,
    with_optimization,
)

CONFIG = REPO_ROOT / "configs" / "pix2pix.yaml"
SIZE = 8


class TinyPairs(TranslationDataModule):
    """48 training and 16 held-out MNIST digits at 8 px: edge map → digit, with labels.
    Six batches of 8 per epoch, so short runs cross epoch boundaries."""

    channels = source_channels = target_channels = 1
    num_classes = 10

    def __init__(self, batch_size: int = 8) -> None:
        super().__init__(batch_size=batch_size, seed=0)

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        digits, labels = mnist5k_digits(SIZE)
        digits, labels = digits[:64], labels[:64]
        sources = edge_map(digits)
        return (
            TensorDictDataset(source=sources[:48], target=digits[:48], label=labels[:48]),
            TensorDictDataset(source=sources[48:], target=digits[48:], label=labels[48:]),
        )


def tiny_pix2pix(**overrides: Any) -> Pix2Pix:
    kwargs: dict[str, Any] = {
        "generator": UNetGenerator(1, 1, SIZE, base_width=4, max_width=8),
        "discriminator": PatchDiscriminator(2, base_width=4, image_size=SIZE),
        "num_fixed": 3,
    }
    kwargs.update(overrides)
    return Pix2Pix(**with_optimization(kwargs))


def pairs(batch: int = 4, seed: int = 0) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(2, batch, 1, SIZE, SIZE, generator=generator) * 2 - 1)  # type: ignore[return-value]


class Identity(nn.Module):
    """A "generator" that returns its input: its L1 must equal the identity baseline."""

    in_channels = out_channels = 1

    def forward(self, x: Tensor) -> Tensor:
        return x


# ---------------------------------------------------------------------- shapes and construction
def test_default_networks_are_a_unet_and_a_conditional_patchgan_of_the_data_sizes():
    model = Pix2Pix(source_channels=1, target_channels=3, image_size=SIZE)
    assert isinstance(model.generator, UNetGenerator) and isinstance(model.discriminator, PatchDiscriminator)
    assert model.discriminator.in_channels == 4  # cat([source, image])
    assert model.generator_ema is None  # pix2pix has no moving average
    source = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    output = model.translate(source)
    assert output.shape == (2, 3, SIZE, SIZE)
    assert model.score(source, output).shape == (2, 4)  # a 2×2 map of patch logits per pair
    assert model.preview_nrow == 3


def test_a_discriminator_that_does_not_see_the_source_is_refused():
    with pytest.raises(ValueError, match="set the discriminator's in_channels to 2"):
        tiny_pix2pix(discriminator=PatchDiscriminator(1, base_width=4, image_size=SIZE))


@pytest.mark.parametrize("bad", [{"l1_weight": -1.0}, {"sample_mode": "test"}, {"num_fixed": 0}])
def test_bad_settings_are_clear_errors(bad: dict[str, Any]):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_pix2pix(**bad)


def test_a_generator_of_the_wrong_output_shape_fails_with_the_shapes_named():
    model = tiny_pix2pix()
    with pytest.raises(ValueError, match=r"shape \(1, 8, 8\) but the targets have shape \(3, 8, 8\)"):
        model.check_output(torch.zeros(2, 1, SIZE, SIZE), torch.zeros(2, 3, SIZE, SIZE))


# ---------------------------------------------------------------------- the loss terms
def test_discriminator_loss_is_half_the_cgan_loss_on_source_image_pairs():
    """Eq. 1 with logits, real pair (x, y) vs fake pair (x, G(x)), divided by 2 (Sec. 3.3)."""
    torch.manual_seed(0)
    model = tiny_pix2pix(discriminator=PatchDiscriminator(2, base_width=4, image_size=SIZE, norm="none"))
    source, target = pairs()
    fake = model.generator(source).detach()
    loss, stats = model.discriminator_main(source, target, fake)
    real_logits = model.discriminator(torch.cat([source, target], 1))
    fake_logits = model.discriminator(torch.cat([source, fake], 1))
    expected = 0.5 * (F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(stats["D(x)"], torch.sigmoid(real_logits).mean())
    torch.testing.assert_close(stats["D(G(z))"], torch.sigmoid(fake_logits).mean())


def test_discriminator_is_conditioned_on_the_source():
    model = tiny_pix2pix(discriminator=PatchDiscriminator(2, base_width=4, image_size=SIZE, norm="none"))
    source, target = pairs()
    other_source, _ = pairs(seed=1)
    assert not torch.allclose(model.score(source, target), model.score(other_source, target))


@pytest.mark.parametrize("l1_weight", [100.0, 0.0])
def test_generator_loss_is_the_adversarial_term_plus_weighted_l1_to_the_target(l1_weight: float):
    """Eq. 4: G* = arg min L_cGAN + λ·E‖y − G(x)‖₁, the cGAN term non-saturating (Sec. 3.3)."""
    model = tiny_pix2pix(
        discriminator=PatchDiscriminator(2, base_width=4, image_size=SIZE, norm="none"), l1_weight=l1_weight
    )
    source, target = pairs()
    fake = model.generator(source)
    loss, stats = model.generator_main(source, target, fake)
    adversarial = F.softplus(-model.discriminator(torch.cat([source, fake], 1))).mean()
    l1 = (fake - target).abs().mean()
    torch.testing.assert_close(stats["g_adv"], adversarial.detach())
    torch.testing.assert_close(stats["g_l1"], l1.detach())
    torch.testing.assert_close(loss, adversarial + l1_weight * l1)
    loss.backward()
    assert all(p.grad is not None for p in model.generator.parameters() if p.requires_grad)


# ---------------------------------------------------------------------- held-out scores and strips
def test_held_out_l1_and_its_baselines_are_what_they_say(tmp_path: Path):
    """With a generator that copies its input, val/l1 is the identity baseline; both
    baselines equal their definitions computed here over the whole held-out set."""
    data = TinyPairs(batch_size=5)  # 16 held-out pairs: batches of 5, 5, 5, 1
    model = tiny_pix2pix(generator=Identity(), sample_mode="eval", metrics=[TranslationScores(), DigitAccuracy()])
    metrics = tiny_trainer(tmp_path, 1, limit_val_batches=None).validate(model, datamodule=data, verbose=False)[0]
    held_out, train = data.val_set.tensors, data.train_set.tensors
    identity = (held_out["source"] - held_out["target"]).abs().mean()
    mean_image = (train["target"].mean(0) - held_out["target"]).abs().mean()
    assert metrics["val/l1"] == pytest.approx(float(identity), abs=1e-5)
    assert metrics["val/l1_identity"] == pytest.approx(float(identity), abs=1e-5)
    assert metrics["val/l1_mean"] == pytest.approx(float(mean_image), abs=1e-5)
    assert 0.0 <= metrics["val/digit_accuracy"] <= 1.0


def test_the_digit_reader_reads_real_digits_and_stays_out_of_checkpoints():
    digits, labels = mnist5k_digits(32)
    assert digit_accuracy(digits[:200], labels[:200]) > 0.95
    assert digit_accuracy(digits[:200], (labels[:200] + 1) % 10) < 0.05
    model = tiny_pix2pix(metrics=[TranslationScores(), DigitAccuracy()])
    assert not [key for key in model.state_dict() if key.startswith("metrics")]  # instruments, not model state


def test_without_metrics_validation_logs_nothing_and_digit_accuracy_needs_labels(tmp_path: Path):
    data = TinyPairs()
    assert tiny_trainer(tmp_path, 1, limit_val_batches=None).validate(
        tiny_pix2pix(), datamodule=data, verbose=False
    ) == [{}]
    unlabelled = {"source": torch.zeros(2, 1, SIZE, SIZE), "target": torch.zeros(2, 1, SIZE, SIZE)}
    with pytest.raises(ValueError, match="'label'"):
        DigitAccuracy().update(tiny_pix2pix(), unlabelled, {"output": unlabelled["target"]})


def test_strips_are_source_output_target_of_the_first_held_out_pairs_and_leave_training_alone(tmp_path: Path):
    data = TinyPairs()
    model = tiny_pix2pix()
    tiny_trainer(tmp_path, 1, limit_val_batches=None).validate(model, datamodule=data, verbose=False)
    state, rng = {k: v.clone() for k, v in model.state_dict().items()}, torch.get_rng_state()
    strips = model.sample_fixed()
    held_out = data.val_set.tensors
    assert strips.shape == (9, 1, SIZE, SIZE)
    assert torch.equal(strips[0::3], held_out["source"][:3])
    assert torch.equal(strips[2::3], held_out["target"][:3])
    assert torch.equal(strips[1::3], model.translate(held_out["source"][:3]))
    assert torch.equal(torch.get_rng_state(), rng), "strips drew from the training RNG"
    assert_same_state(model.state_dict(), state, "strips changed the model (batch-norm statistics?)")
    torch.rand(10)  # training moves the global stream on between two strips
    assert torch.equal(model.sample_fixed(), strips), "strips must be comparable: dropout draws are seeded"
    assert model.offers("translate") and not model.offers("sample")  # a translator draws no noise
    with pytest.raises(CapabilityError, match="does not draw samples from noise"):
        model.sample(2)


def test_paper_sampling_keeps_dropout_as_noise_and_eval_sampling_is_deterministic():
    model = tiny_pix2pix(generator=UNetGenerator(1, 1, SIZE, base_width=4, max_width=8, dropout=0.5))
    source, _ = pairs()
    for mode in ("train", "dropout"):
        model.sample_mode = mode
        assert not torch.equal(model.translate(source, seed=0), model.translate(source, seed=1)), mode
        assert torch.equal(model.translate(source, seed=0), model.translate(source, seed=0)), mode
    model.sample_mode = "eval"
    assert torch.equal(model.translate(source, seed=0), model.translate(source, seed=1))


# ---------------------------------------------------------------------- training
def test_a_short_fit_counts_iterations_updates_both_networks_and_logs_the_documented_metrics(tmp_path: Path):
    torch.manual_seed(0)
    model = tiny_pix2pix(metrics=[TranslationScores(), DigitAccuracy()])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = tiny_trainer(tmp_path, 2, val_check_interval=2, limit_val_batches=1)
    trainer.fit(model, datamodule=TinyPairs())
    assert trainer.global_step == 2  # generator updates, not optimizer steps
    for name in ("generator", "discriminator"):
        changed = [not torch.equal(v, before[k]) for k, v in model.state_dict().items() if k.startswith(name)]
        assert any(changed), f"{name} did not train"
    logged = set(trainer.callback_metrics)
    expected = {"train/d_loss", "train/g_adv", "train/g_l1", "train/D(x)", "train/D(G(z))"}
    expected |= {"val/l1", "val/l1_identity", "val/l1_mean", "val/digit_accuracy"}
    assert expected <= logged, sorted(expected - logged)


def test_bf16_mixed_precision_trains(tmp_path: Path):
    model = tiny_pix2pix()
    trainer = tiny_trainer(tmp_path, 1, precision="bf16-mixed", limit_val_batches=0)
    trainer.fit(model, datamodule=TinyPairs())
    assert torch.isfinite(trainer.callback_metrics["train/g_loss"])


RESUME_STEPS = 8  # six batches per epoch: crosses an epoch boundary


def resumable_run(folder: Path, checkpoints: bool) -> tuple[pl.Trainer, Pix2Pix]:
    torch.set_num_threads(1)
    pl.seed_everything(0)
    callbacks: list[pl.Callback] = [SampleGrid(every_n_epochs=1)]
    if checkpoints:
        callbacks.append(every_step_checkpoints(folder))
    trainer = tiny_trainer(
        folder, RESUME_STEPS, callbacks, val_check_interval=3, check_val_every_n_epoch=None, limit_val_batches=1
    )
    return trainer, tiny_pix2pix(ema_kimg=0.01)  # dropout, batch norm and an EMA: all must resume


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("pix2pix")
    trainer, model = resumable_run(folder, checkpoints=True)
    trainer.fit(model, datamodule=TinyPairs())
    return {"folder": folder, **end_of_training(trainer, model)}


@pytest.mark.parametrize("checkpoint", ["step=3.ckpt", "step=4.ckpt", "step=6.ckpt"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted: dict[str, Any], tmp_path: Path, checkpoint: str):
    trainer, model = resumable_run(tmp_path, checkpoints=False)
    trainer.fit(model, datamodule=TinyPairs(), ckpt_path=uninterrupted["folder"] / checkpoint)
    assert trainer.global_step == RESUME_STEPS
    assert_same_end_of_training(trainer, model, uninterrupted)


def test_validation_and_strips_do_not_change_the_training_trajectory(tmp_path: Path):
    states = []
    for looking in (True, False):
        pl.seed_everything(0)
        model = tiny_pix2pix()
        callbacks = [SampleGrid(every_n_steps=1)] if looking else []
        options = {"val_check_interval": 2, "limit_val_batches": 2} if looking else {"limit_val_batches": 0}
        tiny_trainer(tmp_path / str(looking), 4, callbacks, **options).fit(model, datamodule=TinyPairs())
        states.append(model.state_dict())
    assert_same_state(states[0], states[1], "looking at the model moved its weights")


# ---------------------------------------------------------------------- the config
def test_config_trains_two_iterations_and_writes_strips(tmp_path: Path):
    args = ["fit", "--config", str(CONFIG), "--trainer.max_steps=2", "--trainer.accelerator=cpu"]
    args += ["--trainer.logger=false", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2"]
    args += ["--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={tmp_path}", "--data.init_args.batch_size=8"]
    args += ["--checkpoint.every_n_train_steps=null"]
    cli = GANLightningCLI(args=args)
    assert cli.trainer.global_step == 2
    assert isinstance(cli.model, Pix2Pix) and cli.model.l1_weight == 100.0
    assert {"val/l1", "val/l1_identity", "val/l1_mean", "val/digit_accuracy"} <= set(cli.trainer.callback_metrics)
    assert list((tmp_path / "samples").glob("step_*.png")), "no strips written"


def test_config_composes_with_the_paired_folder_data_config():
    """The networks follow the folder data's channels and size; D's channels need one flag,
    and forgetting it is a one-line error that gives the value."""
    folder = str(REPO_ROOT / "configs" / "data" / "pix2pix_folder.yaml")
    with pytest.raises(ConfigurationError, match="in_channels to 6"):
        GANLightningCLI(args=["--config", str(CONFIG), "--config", folder], run=False)
    flag = "--model.init_args.discriminator.init_args.in_channels=6"
    cli = GANLightningCLI(args=["--config", str(CONFIG), "--config", folder, flag], run=False)
    generator = cli.model.generator
    assert (generator.in_channels, generator.out_channels, generator.image_size) == (3, 3, 256)
    assert [type(metric).__name__ for metric in cli.model.metrics] == ["TranslationScores"]  # no digit reading


def test_translate_contract_refuses_a_direction_and_wrong_channels():
    model = tiny_pix2pix()
    source, _ = pairs()
    with pytest.raises(ValueError, match="one way"):
        model.translate(source, direction="ab")
    with pytest.raises(ValueError, match="channel"):
        model.translate(torch.cat([source, source], dim=1))
