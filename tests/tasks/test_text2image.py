"""Text-to-image, GAN-INT-CLS (Reed et al. 2016): the vocabulary in checkpoints, the
matching-aware loss and the INT term against the paper's formulas, caption reading as an
evaluation part, a short fit, exact resume, the config and the ``sample --prompt`` command.
(The tokenizer, the networks, the captioned canvases and the caption data: data/, networks/, mnist/.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.commands.loading import load_module
from gan_lightning.data.tokenizer import Tokenizer, Vocabulary
from gan_lightning.errors import CommandLineError
from gan_lightning.mnist import CaptionReading, MNISTCaptionsDataModule
from gan_lightning.networks import MatchingDiscriminator, TextEncoder, TextToImageGenerator
from gan_lightning.objectives import NonSaturatingLoss
from gan_lightning.tasks import TextToImage
from gan_lightning.tasks.text2image import (
    auxiliary_classification,
    contrastive_matching,
    interpolated,
    matching_aware_loss,
    mismatched,
    mode_seeking,
)
from tests.conftest import (
    REPO_ROOT,
    assert_same_end_of_training,
    assert_same_state,
    end_of_training,
    every_step_checkpoints,
    tiny_trainer,
    with_optimization,
)

CONFIG = REPO_ROOT / "configs" / "text2image.yaml"
SIZE = 16


def tiny_data(batch_size: int = 8, train_size: int = 48) -> MNISTCaptionsDataModule:
    """16-px canvases (digit boxes 10 and 6 px), 48 training and 16 held-out digits: six
    batches of 8 per epoch, so short runs cross epoch boundaries."""
    return MNISTCaptionsDataModule(
        image_size=SIZE, large=10, small=6, jitter=1, batch_size=batch_size, val_size=16, train_size=train_size
    )


def tiny_model(**overrides: Any) -> TextToImage:
    kwargs: dict[str, Any] = {
        "text_encoder": TextEncoder(48, word_dim=8, hidden_dim=8, embedding_dim=8),
        "generator": TextToImageGenerator(8, 8, condition_dim=4, image_size=SIZE, base_width=4),
        "discriminator": MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4),
        "num_fixed": 3,
        "noises_per_caption": 2,
    }
    kwargs.update(overrides)
    return TextToImage(**with_optimization(kwargs))


def test_vocabulary_is_state_dict_extra_state_and_loads_without_pickle(tmp_path: Path):
    model = tiny_model()
    tokenizer = Tokenizer.from_captions(["a thick seven on the left"])
    model.use_vocabulary(tokenizer)
    torch.save(model.state_dict(), tmp_path / "state.pt")
    fresh = tiny_model()
    assert fresh.vocabulary.tokenizer is None
    fresh.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    assert fresh.vocabulary.tokenizer == tokenizer
    other = Tokenizer.from_captions(["something else entirely"])
    with pytest.raises(ValueError, match="another vocabulary"):
        fresh.use_vocabulary(other)
    with pytest.raises(ValueError, match="vocab_size is 48"):
        tiny_model().use_vocabulary(Tokenizer.from_captions([" ".join(f"w{i}" for i in range(60))]))
    with pytest.raises(ValueError, match="no vocabulary yet"):
        Vocabulary().require()


# ---------------------------------------------------------------------- the losses
def test_matching_aware_loss_is_reeds_algorithm_one():
    """L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2 (Reed et al. 2016, Alg. 1, lines 6-9)."""
    right, wrong, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 1.5]), torch.tensor([-0.3, 0.7])
    s_r, s_w, s_f = torch.sigmoid(right), torch.sigmoid(wrong), torch.sigmoid(fake)
    expected = -(s_r.log().mean() + ((1 - s_w).log().mean() + (1 - s_f).log().mean()) / 2)
    torch.testing.assert_close(matching_aware_loss(NonSaturatingLoss(), right, wrong, fake), expected)
    several = torch.tensor([[0.5, -2.0], [1.5, 0.1]])  # two mismatched captions per image
    s_w = torch.sigmoid(several)
    expected = -(s_r.log().mean() + ((1 - s_w).log().mean() + (1 - s_f).log().mean()) / 2)
    torch.testing.assert_close(matching_aware_loss(NonSaturatingLoss(), right, several, fake), expected)


class DotDiscriminator(nn.Module):
    """logit = mean(image) · text[:, 0]: the pairing of images and texts is visible in it."""

    text_dim = 8

    def forward(self, images: Tensor, text: Tensor) -> Tensor:
        return images.flatten(1).mean(1) * text[:, 0]


def test_discriminator_phase_pairs_real_images_with_the_next_caption_as_mismatched():
    model = tiny_model(discriminator=DotDiscriminator())
    real, fake = torch.rand(3, 1, SIZE, SIZE), torch.rand(3, 1, SIZE, SIZE) - 1
    text = torch.tensor([[1.0] * 8, [2.0] * 8, [3.0] * 8])
    loss, stats = model.discriminator_main(real, fake, text)
    mean_real, mean_fake = real.flatten(1).mean(1), fake.flatten(1).mean(1)
    right, wrong = mean_real * text[:, 0], mean_real * torch.tensor([3.0, 1.0, 2.0])
    expected = F.softplus(-right).mean() + (F.softplus(wrong).mean() + F.softplus(mean_fake * text[:, 0]).mean()) / 2
    torch.testing.assert_close(loss, expected)
    torch.testing.assert_close(stats["D(x,wrong)"], torch.sigmoid(wrong).mean())
    model.matching_aware = False  # a plain conditional GAN: no mismatched term
    loss, stats = model.discriminator_main(real, fake, text)
    torch.testing.assert_close(loss, F.softplus(-right).mean() + F.softplus(mean_fake * text[:, 0]).mean())
    assert "D(x,wrong)" not in stats


def test_all_mismatches_score_each_real_image_with_every_other_caption_of_the_batch():
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(
        8, condition_dim=4, image_size=SIZE, base_width=4, head="projection", norm="none"
    )
    model = tiny_model(discriminator=discriminator, mismatches="all")
    real, text = torch.rand(3, 1, SIZE, SIZE) * 2 - 1, torch.randn(3, 8)
    right, wrong, table = model.real_pairs(real, text)
    torch.testing.assert_close(right, discriminator(real, text))
    assert wrong.shape == (3, 2) and table.shape == (3, 3)
    for i, others in enumerate([[1, 2], [0, 2], [0, 1]]):
        expected = torch.stack([discriminator(real[i : i + 1], text[j : j + 1])[0] for j in others])
        torch.testing.assert_close(wrong[i], expected)
    one = tiny_model(discriminator=discriminator)
    right_one, wrong_one, no_table = one.real_pairs(real, text)
    one.contrastive_weight = 1.0  # the same pairs read off the table
    right_table, wrong_table, _ = one.real_pairs(real, text)
    assert no_table is None
    torch.testing.assert_close(right_table, right_one)
    torch.testing.assert_close(wrong_table, wrong_one)
    torch.testing.assert_close(wrong_one, discriminator(real, mismatched(text)))
    concat = tiny_model(mismatches="all")
    with pytest.raises(ValueError, match="head='projection'"):
        concat.real_pairs(real, text)
    with pytest.raises(ValueError, match="mismatches must be"):
        tiny_model(mismatches="some")


def test_contrastive_term_is_the_cross_entropy_of_each_images_caption_among_the_batch():
    """XMC-GAN's image-sentence contrastive loss with D's pair score as the similarity,
    added to D's loss on real images and to G's on generated ones."""
    table = torch.tensor([[2.0, 0.0, -1.0], [0.5, 1.0, 0.0], [0.0, 3.0, 0.1]])
    expected = -torch.stack([table[i].softmax(0)[i].log() for i in range(3)]).mean()
    torch.testing.assert_close(contrastive_matching(table), expected)
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(
        8, condition_dim=4, image_size=SIZE, base_width=4, head="projection", norm="none"
    )
    plain = tiny_model(discriminator=discriminator, interpolation_weight=0.0)
    with_term = tiny_model(discriminator=discriminator, interpolation_weight=0.0, contrastive_weight=0.5)
    real, fake, text = torch.rand(4, 1, SIZE, SIZE), torch.rand(4, 1, SIZE, SIZE), torch.randn(4, 8)
    d_plain, _ = plain.discriminator_main(real, fake, text)
    d_term, stats = with_term.discriminator_main(real, fake, text)
    real_table = discriminator.judge_all(discriminator.image_features(real), text)
    torch.testing.assert_close(d_term, d_plain + 0.5 * contrastive_matching(real_table))
    g_plain, _ = plain.generator_main(fake, text)
    g_term, stats = with_term.generator_main(fake, text)
    fake_table = discriminator.judge_all(discriminator.image_features(fake), text)
    torch.testing.assert_close(g_term, g_plain + 0.5 * contrastive_matching(fake_table))
    assert "g_contrastive" in stats


@pytest.mark.parametrize("weight", [1.0, 0.5, 0.0])
def test_generator_loss_adds_the_weighted_int_term_on_interpolated_captions(weight: float):
    """Eq. 5: G also fools D on (G(z, β t1 + (1 − β) t2), β t1 + (1 − β) t2), β = 0.5."""
    torch.manual_seed(0)
    model = tiny_model(interpolation_weight=weight)
    text = torch.randn(4, 8)
    fake = model.generator(torch.randn(4, 8), text)
    state = torch.get_rng_state()
    loss, stats = model.generator_main(fake, text)
    adversarial = F.softplus(-model.discriminator(fake, text)).mean()
    torch.testing.assert_close(stats["g_adv"], adversarial.detach())
    if weight == 0:
        assert "g_int" not in stats
        torch.testing.assert_close(loss, adversarial)
        return
    torch.set_rng_state(state)  # the same z as the INT term drew
    between = 0.5 * text + 0.5 * text.roll(1, 0)
    torch.testing.assert_close(interpolated(text, 0.5), between)
    z = torch.randn(4, 8)
    term = F.softplus(-model.discriminator(model.generator(z, between), between)).mean()
    torch.testing.assert_close(loss, adversarial + weight * term)
    assert torch.equal(mismatched(text), text.roll(1, 0))


def class_head_model(num_classes: int = 3, **overrides: Any) -> TextToImage:
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(
        8, condition_dim=4, image_size=SIZE, base_width=4, norm="none", num_classes=num_classes
    )
    return tiny_model(discriminator=discriminator, interpolation_weight=0.0, **overrides)


def test_auxiliary_class_term_is_tac_gans_cross_entropy_on_real_images_for_d_and_fakes_for_g():
    """TAC-GAN (Dash et al. 2017): D classifies real images; G's images must be read as their caption's class."""
    logits, labels = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 3.0]]), torch.tensor([0, 2])
    expected = -(logits[0].log_softmax(0)[0] + logits[1].log_softmax(0)[2]) / 2
    torch.testing.assert_close(auxiliary_classification(logits, labels), expected)
    plain, with_term = class_head_model(), class_head_model(auxiliary_weight=0.5)
    real, fake, text = torch.rand(4, 1, SIZE, SIZE), torch.rand(4, 1, SIZE, SIZE), torch.randn(4, 8)
    labels = torch.tensor([0, 1, 2, 1])
    head = with_term.discriminator
    d_plain, _ = plain.discriminator_main(real, fake, text, labels)
    d_term, stats = with_term.discriminator_main(real, fake, text, labels)
    real_class = F.cross_entropy(head.classify(head.image_features(real)), labels)
    torch.testing.assert_close(d_term, d_plain + 0.5 * real_class)
    torch.testing.assert_close(stats["d_class"], real_class)
    g_plain, _ = plain.generator_main(fake, text, labels)
    g_term, stats = with_term.generator_main(fake, text, labels)
    torch.testing.assert_close(
        g_term, g_plain + 0.5 * F.cross_entropy(head.classify(head.image_features(fake)), labels)
    )


def test_generators_gradient_flows_through_the_class_term():
    model = class_head_model(auxiliary_weight=1.0)
    model.discriminator.requires_grad_(False)
    text, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 1])
    fake = model.generator(torch.randn(4, 8), text)
    loss, stats = model.generator_main(fake, text, labels)
    (loss - stats["g_adv"]).backward()  # the class term alone
    grads = [p.grad for p in model.generator.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0


def test_the_class_term_needs_labels_and_a_class_head():
    with pytest.raises(ValueError, match="num_classes"):
        tiny_model(auxiliary_weight=1.0)  # the default head has no classifier
    real, text = torch.rand(2, 1, SIZE, SIZE), torch.randn(2, 8)
    with pytest.raises(ValueError, match='"label" entry'):
        class_head_model(auxiliary_weight=1.0).discriminator_main(real, real, text)
    with pytest.raises(ValueError, match="no auxiliary classifier"):
        MatchingDiscriminator(8, image_size=SIZE).classify(torch.zeros(2, 128, 4, 4))


def test_the_caption_class_term_makes_the_encoder_read_the_class_from_the_text():
    plain = class_head_model(auxiliary_weight=0.5)
    model = class_head_model(auxiliary_weight=0.5, caption_class_weight=2.0)
    assert plain.caption_classifier is None and model.caption_classifier.out_features == 3
    assert model.caption_classifier in model.role_modules()["discriminator"]
    real, fake, labels = torch.rand(4, 1, SIZE, SIZE), torch.rand(4, 1, SIZE, SIZE), torch.tensor([0, 1, 2, 1])
    text = model.text_encoder(torch.randint(2, 48, (4, 5)), torch.full((4,), 5))
    d_plain, _ = plain.discriminator_main(real, fake, text.detach(), labels)
    d_term, stats = model.discriminator_main(real, fake, text, labels)
    caption_class = F.cross_entropy(model.caption_classifier(text), labels)
    torch.testing.assert_close(d_term, d_plain + 2.0 * caption_class)
    torch.testing.assert_close(stats["caption_class"], caption_class)
    g_plain, _ = plain.generator_main(fake, text.detach(), labels)
    g_term, _ = model.generator_main(fake, text.detach(), labels)
    torch.testing.assert_close(g_term, g_plain)  # G's loss is unchanged: it reads the embedding only
    (d_term - d_plain).backward()  # the caption term alone trains the encoder
    assert sum(float(p.grad.abs().sum()) for p in model.text_encoder.parameters() if p.grad is not None) > 0


def test_mode_seeking_term_is_msgans_inverse_ratio_of_image_to_noise_distance():
    """MSGAN (Mao et al. 2019): 1 / (mean|G(z1) − G(z2)| / mean|z1 − z2| + ε)."""
    first, second = torch.zeros(2, 1, 2, 2), torch.full((2, 1, 2, 2), 0.5)
    z1, z2 = torch.zeros(2, 3), torch.full((2, 3), 2.0)
    torch.testing.assert_close(mode_seeking(first, second, z1, z2), torch.tensor(1 / (0.25 + 1e-5)))
    torch.manual_seed(0)
    model = tiny_model(interpolation_weight=0.0, diversity_weight=0.5)
    text, z = torch.randn(4, 8), torch.randn(4, 8)
    fake = model.generator(z, text)
    state = torch.get_rng_state()
    loss, stats = model.generator_main(fake, text, z=z)
    torch.set_rng_state(state)  # the same second noise
    z_second = torch.randn(4, 8)
    term = mode_seeking(fake, model.generator(z_second, text), z, z_second)
    torch.testing.assert_close(loss, stats["g_adv"] + 0.5 * term)
    fake.retain_grad()
    loss.backward()
    assert float(fake.grad.abs().sum()) > 0


def test_a_short_fit_with_the_class_and_mode_seeking_terms_logs_them(tmp_path: Path):
    model = class_head_model(10, auxiliary_weight=1.0, diversity_weight=1.0)
    trainer = tiny_trainer(tmp_path, 2, limit_val_batches=0)
    trainer.fit(model, datamodule=tiny_data())
    assert {"train/d_class", "train/g_class", "train/g_mode_seeking"} <= set(trainer.callback_metrics)


def test_captions_without_classes_are_refused_before_the_first_step(tmp_path: Path):
    """A user's captions (no "label" per item) with the class term on: the error comes from
    set-up, with no training step spent (the step would raise it too, after data loading)."""

    class Unlabelled(MNISTCaptionsDataModule):
        def setup(self, stage: str | None = None) -> None:
            super().setup(stage)
            captions = self.train_set
            self.train_set = [{k: v for k, v in captions[i].items() if k != "label"} for i in range(len(captions))]

    steps = []
    model = class_head_model(10, auxiliary_weight=1.0)
    model.on_train_batch_start = lambda *args: steps.append(1)
    data = Unlabelled(image_size=SIZE, large=10, small=6, jitter=1, batch_size=8, val_size=16, train_size=48)
    with pytest.raises(ValueError, match='"label" entry'):
        tiny_trainer(tmp_path, 2, limit_val_batches=0).fit(model, datamodule=data)
    assert not steps


def test_a_class_head_that_does_not_match_the_datas_classes_is_refused_before_the_first_step(tmp_path: Path):
    """30 stroke-and-digit classes against a 10-way head would fail inside cross_entropy at a
    step; the task names the setting at set-up instead."""
    steps = []
    model = class_head_model(10, auxiliary_weight=1.0)
    model.on_train_batch_start = lambda *args: steps.append(1)
    data = MNISTCaptionsDataModule(
        image_size=SIZE, large=10, small=6, jitter=1, batch_size=8, val_size=16, train_size=48, label="digit_thickness"
    )
    with pytest.raises(ValueError, match=r"30 classes .* has 10: set .*num_classes=30"):
        tiny_trainer(tmp_path, 2, limit_val_batches=0).fit(model, datamodule=data)
    assert not steps


def test_a_short_fit_with_digit_and_stroke_classes_trains_the_finer_class_head(tmp_path: Path):
    model = class_head_model(30, auxiliary_weight=1.0, caption_class_weight=1.0)
    data = MNISTCaptionsDataModule(
        image_size=SIZE, large=10, small=6, jitter=1, batch_size=8, val_size=16, train_size=48, label="digit_thickness"
    )
    tiny_trainer(tmp_path, 2, limit_val_batches=0).fit(model, datamodule=data)
    assert model.caption_classifier.out_features == 30
    assert {"train/d_class", "train/g_class"} <= set(model.trainer.callback_metrics)


@pytest.mark.parametrize(
    "bad",
    [
        {"interpolation_weight": -1.0},
        {"interpolation_beta": 1.5},
        {"auxiliary_weight": -1.0},
        {"caption_class_weight": -1.0},
        {"diversity_weight": -1},
    ],
)
def test_bad_settings_are_clear_errors(bad: dict[str, Any]):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_model(**bad)


@pytest.mark.parametrize("overrides", [{"auxiliary_weight": 0.0}, {"train_text_encoder": False}])
def test_the_caption_class_term_needs_the_class_head_and_a_trained_encoder(overrides: dict[str, Any]):
    with pytest.raises(ValueError, match=r"caption_class_weight > 0 .* needs auxiliary_weight > 0"):
        class_head_model(**{"auxiliary_weight": 1.0, "caption_class_weight": 1.0, **overrides})


def test_an_encoder_of_another_embedding_size_is_refused():
    with pytest.raises(ValueError, match="16-d sentence embeddings but the generator reads text_dim=8"):
        tiny_model(text_encoder=TextEncoder(48, embedding_dim=16))


def test_caption_reading_needs_the_mnist_canvas_and_the_stated_attributes():
    images = torch.zeros(2, 1, SIZE, SIZE)
    batch = {"image": images, **{name: torch.zeros(2, dtype=torch.long) for name in ("digit", "position", "size")}}
    with pytest.raises(ValueError, match="missing \\['thickness'\\]"):
        CaptionReading().update(tiny_model(), batch, {"images": images})
    batch["thickness"] = torch.zeros(2, dtype=torch.long)
    with pytest.raises(ValueError, match="MNISTCaptionsDataModule"):
        CaptionReading().update(tiny_model(), batch, {"images": images})  # no data module: no layout


# ---------------------------------------------------------------------- training
def test_a_short_fit_trains_all_three_networks_and_logs_caption_accuracies(tmp_path: Path):
    torch.manual_seed(0)
    model = tiny_model(metrics=CaptionReading())
    before = {k: v.clone() for k, v in model.state_dict().items() if isinstance(v, Tensor)}
    trainer = tiny_trainer(tmp_path, 2, val_check_interval=2, limit_val_batches=1)
    trainer.fit(model, datamodule=tiny_data())
    assert trainer.global_step == 2
    for name in ("generator.", "discriminator.", "text_encoder."):
        changed = [not torch.equal(v, before[k]) for k, v in model.state_dict().items() if k.startswith(name)]
        assert any(changed), f"{name} did not train"
    logged = set(trainer.callback_metrics)
    expected = {"train/d_loss", "train/g_adv", "train/g_int", "train/D(x)", "train/D(x,wrong)", "train/D(G(z))"}
    expected |= {f"val/{a}_accuracy" for a in ("digit", "position", "size", "thickness")}
    expected |= {f"val/real_{a}_accuracy" for a in ("digit", "position")}
    assert expected <= logged, sorted(expected - logged)
    assert model.vocabulary.tokenizer == trainer.datamodule.tokenizer
    grid = model.sample_fixed()
    assert grid.shape == (6, 1, SIZE, SIZE)  # 3 captions × 2 noises
    assert len(model.fixed_captions()) == 3


def test_a_frozen_text_encoder_stays_at_its_initialisation(tmp_path: Path):
    model = tiny_model(train_text_encoder=False)
    before = {k: v.clone() for k, v in model.text_encoder.state_dict().items()}
    tiny_trainer(tmp_path, 2, limit_val_batches=0).fit(model, datamodule=tiny_data())
    assert_same_state(model.text_encoder.state_dict(), before, "frozen encoder moved")
    assert model.averaged("text_encoder") is model.text_encoder


def test_fixed_samples_are_rows_of_captions_and_leave_training_alone(tmp_path: Path):
    model = tiny_model()
    tiny_trainer(tmp_path, 1, limit_val_batches=0).fit(model, datamodule=tiny_data())
    rng = torch.get_rng_state()
    grid = model.sample_fixed()
    assert torch.equal(torch.get_rng_state(), rng), "the grid drew from the training RNG"
    torch.rand(5)
    assert torch.equal(model.sample_fixed(), grid)
    captions = model.fixed_captions()
    by_prompt = model.sample_captions(captions, 2, seed=0)
    assert by_prompt.shape == grid.shape
    assert not torch.equal(grid[0], grid[1]), "the noise of a row's columns is ignored"


def test_bf16_mixed_precision_trains(tmp_path: Path):
    model = tiny_model()
    trainer = tiny_trainer(tmp_path, 1, precision="bf16-mixed", limit_val_batches=0)
    trainer.fit(model, datamodule=tiny_data())
    assert torch.isfinite(trainer.callback_metrics["train/g_loss"])


RESUME_STEPS = 8  # six batches per epoch: crosses an epoch boundary


def resumable_run(folder: Path, checkpoints: bool) -> tuple[pl.Trainer, TextToImage]:
    torch.set_num_threads(1)
    pl.seed_everything(0)
    callbacks: list[pl.Callback] = [SampleGrid(every_n_epochs=1)]
    if checkpoints:
        callbacks.append(every_step_checkpoints(folder))
    trainer = tiny_trainer(
        folder, RESUME_STEPS, callbacks, val_check_interval=3, check_val_every_n_epoch=None, limit_val_batches=1
    )
    return trainer, tiny_model(ema_kimg=0.01)  # batch norm, a GRU, INT noise and EMAs: all must resume


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("text2image")
    trainer, model = resumable_run(folder, checkpoints=True)
    trainer.fit(model, datamodule=tiny_data())
    return {"folder": folder, **end_of_training(trainer, model)}


@pytest.mark.parametrize("checkpoint", ["step=4.ckpt", "step=6.ckpt"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted: dict[str, Any], tmp_path: Path, checkpoint: str):
    trainer, model = resumable_run(tmp_path, checkpoints=False)
    trainer.fit(model, datamodule=tiny_data(), ckpt_path=uninterrupted["folder"] / checkpoint)
    assert trainer.global_step == RESUME_STEPS
    assert_same_end_of_training(trainer, model, uninterrupted)


# ---------------------------------------------------------------------- the config and the sample command
@pytest.fixture(scope="module")
def config_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("text2image_cli")
    args = ["fit", "--config", str(CONFIG), "--trainer.max_steps=2", "--trainer.accelerator=cpu"]
    args += ["--trainer.logger=false", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2"]
    args += ["--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={root}", "--data.init_args.batch_size=8"]
    cli = GANLightningCLI(args=args)
    assert cli.trainer.global_step == 2 and isinstance(cli.model, TextToImage)
    assert "val/digit_accuracy" in cli.trainer.callback_metrics
    assert list(root.rglob("samples/step_*.png")), "no sample grid written"
    return next(root.rglob("last.ckpt"))


def test_sample_writes_one_grid_per_prompt_from_the_checkpoints_vocabulary(config_run: Path, tmp_path: Path):
    prompts = ["a thick seven on the left", "at the bottom , a small 2"]
    args = ["sample", str(config_run), "--per-prompt", "3", "--device", "cpu"]
    main([*args, "--out", str(tmp_path / "a"), "--prompt", prompts[0], "--prompt", prompts[1]])
    main([*args, "--out", str(tmp_path / "b"), "--prompt", prompts[0], "--prompt", prompts[1]])
    assert Image.open(tmp_path / "a" / "prompt_0.png").size[0] > 3 * 32  # three images in a row
    # two steps into training the outputs differ by ~1e-4 between prompts: below a PNG's 8 bits,
    # so the prompts' effect is checked on the float samples the grids are drawn from
    model, _ = load_module(config_run)
    by_prompt = model.sample_captions(prompts, 3, seed=0).split(3)
    assert not torch.equal(by_prompt[0], by_prompt[1]), "two prompts gave the same images"
    assert (tmp_path / "a" / "prompt_0.png").read_bytes() == (tmp_path / "b" / "prompt_0.png").read_bytes()
    assert (tmp_path / "a" / "prompts.txt").read_text().splitlines()[1] == f"prompt_1.png\t{prompts[1]}"


def test_a_prompt_with_unknown_words_exits_with_one_line_naming_them(config_run: Path, tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["sample", str(config_run), "--out", str(tmp_path), "--prompt", "a thikc seven in purple"])
    message = str(exited.value.code)
    assert message.startswith("error:") and "'thikc' (did you mean 'thick'?)" in message and "'purple'" in message
    assert "Known words:" in message and "seven" in message


def test_sample_without_a_prompt_and_evaluate_say_in_one_line_what_to_run_instead(config_run: Path, tmp_path: Path):
    with pytest.raises(SystemExit) as exited:
        main(["sample", str(config_run), "--out", str(tmp_path)])
    assert str(exited.value.code).startswith("error: TextToImage draws images for captions: add --prompt")
    assert str(exited.value.code).endswith("written in the words of its training captions.")
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", str(config_run)])
    message = str(exited.value.code)
    assert (
        "\n" not in message and "TextToImage is scored on its held-out split by the metrics its config names" in message
    )
    run_config = config_run.parent.parent / "config.yaml"
    assert f"lightning validate --config {run_config} --ckpt_path {config_run}" in message


@pytest.mark.parametrize("metrics", [True, False], ids=["caption_reading", "metrics_null"])
def test_the_end_of_run_summary_offers_prompts_and_validate_not_evaluate_or_export(
    metrics: bool, tmp_path: Path, capsys
):
    """validate is offered only where the config names metrics: with your own captions
    (``metrics: null``) it would print nothing."""
    args = ["fit", "--config", str(CONFIG), "--trainer.max_steps=1", "--trainer.accelerator=cpu"]
    args += [] if metrics else ["--model.init_args.metrics=null"]
    args += ["--trainer.logger=false", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=1"]
    args += ["--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={tmp_path}", "--data.init_args.batch_size=8"]
    GANLightningCLI(args=args)
    summary = capsys.readouterr().out.split("Run finished at iteration 1")[1]
    assert '--prompt "<a caption>"' in summary
    assert ("lightning validate --config " in summary) == metrics
    assert "gan-lightning evaluate" not in summary and "gan-lightning export" not in summary


def test_prompt_on_a_model_without_text_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from gan_lightning.commands import sample as sample_command
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.tasks import GAN

    gan = GAN(DCGANGenerator(8, 8, base_width=4), DCGANDiscriminator(8, base_width=4))
    monkeypatch.setattr(sample_command, "load_module", lambda *args, **kwargs: (gan, None))
    args = sample_command.build_parser().parse_args(["x.ckpt", "--out", str(tmp_path), "--prompt", "a seven"])
    with pytest.raises(CommandLineError, match=r"--prompt needs a text-to-image model.*GAN"):
        sample_command.write_samples(args)
