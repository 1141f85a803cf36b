"""Text-to-image, GAN-INT-CLS (Reed et al. 2016): the tokenizer and the vocabulary in
checkpoints, the matching-aware loss and the INT term against the paper's formulas, the
captioned MNIST canvases against what they show, a short fit, exact resume, the
``sample --prompt`` command and the JSONL/folder caption data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image
from torch import Tensor, nn

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.commands.loading import load_module
from gan_lightning.data import CaptionDataModule, CaptionFileError, DataNotFoundError
from gan_lightning.data.tokenizer import Tokenizer, UnknownWordsError, Vocabulary
from gan_lightning.errors import CommandLineError
from gan_lightning.mnist import CaptionReading, MNISTCaptionsDataModule, mnist5k_pixels
from gan_lightning.mnist.caption_reading import caption_scores, ink_extent, ink_mass, read_position
from gan_lightning.mnist.captions import DIGIT_WORDS, POSITIONS, boxed_digits, thickness_labels
from gan_lightning.networks import MatchingDiscriminator, TextEncoder, TextToImageGenerator
from gan_lightning.objectives import NonSaturatingLoss
from gan_lightning.tasks import TextToImage
from gan_lightning.tasks.text2image import contrastive_matching, interpolated, matching_aware_loss, mismatched
from tests.conftest import REPO_ROOT, assert_same_state, tiny_trainer, with_optimization

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


# ---------------------------------------------------------------------- tokenizer
def test_tokenizer_splits_lowercases_and_round_trips():
    tokenizer = Tokenizer.from_captions(["A thick seven, on the LEFT!", "a thin 7 on the right"])
    assert tokenizer.words[:2] == ["<pad>", "<unk>"]
    ids = tokenizer.encode("a THICK 7, on the left")
    assert tokenizer.decode(ids) == "a thick 7 , on the left"
    assert tokenizer.words[2:5] == ["a", "on", "the"]  # most frequent first, ties alphabetical
    assert Tokenizer.from_captions(["b a", "a"]) == Tokenizer.from_captions(["a", "b a"])  # order-free


def test_batches_are_right_padded_with_lengths_and_cut_at_max_length():
    tokenizer = Tokenizer.from_captions(["one two three", "one"])
    ids, lengths = tokenizer.batch(["one two three", "one", ""])
    assert ids.shape == (3, 3) and lengths.tolist() == [3, 1, 1]
    assert ids[1, 1:].tolist() == [0, 0] and ids[2, 0] == 1  # padding, and an empty caption is one <unk>
    ids, lengths = tokenizer.batch(["one two three"], max_length=2)
    assert ids.shape == (1, 2) and lengths.tolist() == [2]
    ids, _ = tokenizer.batch(["one"], max_length=5)
    assert ids.shape == (1, 5)


def test_unknown_words_are_unk_in_data_and_one_clear_error_in_prompts():
    tokenizer = Tokenizer.from_captions(["a thick seven on the left"])
    assert tokenizer.encode("a purple seven") == [tokenizer.ids["a"], 1, tokenizer.ids["seven"]]
    with pytest.raises(UnknownWordsError) as caught:
        tokenizer.encode("a thikc seven in purple", strict=True)
    message = str(caught.value)
    assert "'thikc' (did you mean 'thick'?)" in message and "'purple'" in message and "'in'" in message
    assert "Known words: a left on seven the thick." in message
    assert "\n" not in message


def test_vocabulary_caps_and_rejects_bad_word_lists():
    tokenizer = Tokenizer.from_captions(["a a a b b c"], max_size=4)
    assert tokenizer.words == ["<pad>", "<unk>", "a", "b"]
    assert tokenizer.encode("c") == [1]
    with pytest.raises(ValueError, match="starts with"):
        Tokenizer(["a", "b"])
    with pytest.raises(ValueError, match="No words"):
        Tokenizer.from_captions(["", "  "])


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


@pytest.mark.parametrize("bad", [{"interpolation_weight": -1.0}, {"interpolation_beta": 1.5}])
def test_bad_settings_are_clear_errors(bad: dict[str, Any]):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_model(**bad)


def test_an_encoder_of_another_embedding_size_is_refused():
    with pytest.raises(ValueError, match="16-d sentence embeddings but the generator reads text_dim=8"):
        tiny_model(text_encoder=TextEncoder(48, embedding_dim=16))


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_text_encoder_ignores_padding_and_reads_word_order(pooling: str):
    torch.manual_seed(0)
    encoder = TextEncoder(10, word_dim=4, hidden_dim=4, embedding_dim=4, pooling=pooling)
    ids = torch.tensor([[2, 3, 4, 0, 0], [2, 3, 4, 5, 6]])
    short = encoder(ids[:1, :3], torch.tensor([3]))
    torch.testing.assert_close(encoder(ids, torch.tensor([3, 5]))[:1], short)  # padding changes nothing
    assert not torch.allclose(encoder(torch.tensor([[4, 3, 2]]), torch.tensor([3])), short)
    with pytest.raises(ValueError, match="vocab_size=10"):
        encoder(torch.tensor([[12]]), torch.tensor([1]))


@pytest.mark.parametrize("head", ["concat", "projection"])
def test_both_discriminator_heads_score_the_pair_and_share_the_image_pass(head: str):
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4, head=head, norm="none")
    images, text = torch.rand(3, 1, SIZE, SIZE) * 2 - 1, torch.randn(3, 8)
    logits = discriminator(images, text)
    assert logits.shape == (3,)
    torch.testing.assert_close(discriminator.judge(discriminator.image_features(images), text), logits)
    assert not torch.allclose(discriminator(images, text.flip(0)), logits), "the text changes nothing"
    with pytest.raises(ValueError, match="head must be"):
        MatchingDiscriminator(8, head="sum")


def test_the_discriminators_text_compression_has_reeds_batch_norm_and_the_generators_has_none():
    """reedscot/icml2016 main_cls_int.lua: fcD = Linear-BatchNormalization-LeakyReLU(0.2),
    fcG = Linear-LeakyReLU(0.2)."""
    torch.manual_seed(0)
    discriminator = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4).train()
    linear, norm = discriminator.condition[0], discriminator.condition[1]
    assert isinstance(norm, nn.BatchNorm1d)
    text = torch.randn(6, 8) * 3 + 1
    expected = F.leaky_relu(F.batch_norm(linear(text), None, None, norm.weight, norm.bias, training=True), 0.2)
    torch.testing.assert_close(discriminator.condition(text), expected)
    generator = TextToImageGenerator(8, 8, condition_dim=4, image_size=SIZE, base_width=4)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in generator.condition.modules())
    unnormalised = MatchingDiscriminator(8, condition_dim=4, image_size=SIZE, base_width=4, norm="none")
    assert not any(isinstance(m, nn.BatchNorm1d) for m in unnormalised.condition.modules())


# ---------------------------------------------------------------------- the captioned canvases
@pytest.fixture(scope="module")
def canvases() -> MNISTCaptionsDataModule:
    data = MNISTCaptionsDataModule(batch_size=100, val_size=200)
    data.setup()
    return data


def test_captions_describe_the_composed_canvas(canvases: MNISTCaptionsDataModule):
    batch = next(iter(canvases.val_dataloader()))
    images = batch["image"]
    assert images.shape == (100, 1, 32, 32) and images.min() >= -1 and images.max() <= 1
    assert batch["tokens"].shape == (100, 12) and batch["tokens"].dtype == torch.long
    ink = (images[:, 0] + 1) / 2
    half = 16
    for i in range(100):
        caption = canvases.tokenizer.decode(batch["tokens"][i])
        digit, position = int(batch["digit"][i]), POSITIONS[int(batch["position"][i])]
        assert DIGIT_WORDS[digit] in caption.split() or str(digit) in caption.split(), caption
        assert position in caption, caption
        side_ink = {
            "left": (ink[i, :, :half].sum(), ink[i, :, half:].sum()),
            "right": (ink[i, :, half:].sum(), ink[i, :, :half].sum()),
            "top": (ink[i, :half].sum(), ink[i, half:].sum()),
            "bottom": (ink[i, half:].sum(), ink[i, :half].sum()),
        }[position]
        assert side_ink[0] > side_ink[1], f"{caption!r} but most ink is elsewhere"
        size = int(batch["size"][i])
        if size >= 0:
            assert ("small" in caption or "tiny" in caption) == (size == 0), caption
            assert (ink_extent(images[i : i + 1]).item() > canvases.layout.size_threshold) == (size == 1), caption
        thickness = int(batch["thickness"][i])
        said = {"thick", "bold"} & set(caption.split()), "thin" in caption.split()
        assert (bool(said[0]), said[1]) == (thickness == 1, thickness == 0), caption


def test_thickness_is_relative_to_the_class_and_read_back_from_ink(canvases: MNISTCaptionsDataModule):
    pixels, labels = mnist5k_pixels()
    digits = boxed_digits(pixels)
    marks = thickness_labels(digits, labels)
    ink = ink_mass(digits)
    for digit in range(10):
        members = labels == digit
        thick, thin = ink[members & (marks == 1)], ink[members & (marks == 0)]
        assert thick.min() > thin.max(), digit  # within a class, thick digits have more ink
        assert 0.35 < len(thick) / members.sum() < 0.45 and 0.35 < len(thin) / members.sum() < 0.45
    thick_ones, thin_eights = ink[(labels == 1) & (marks == 1)], ink[(labels == 8) & (marks == 0)]
    assert thick_ones.median() < thin_eights.median()  # relative to the class, not absolute
    thresholds = canvases.thickness_thresholds()
    assert thresholds.shape == (10, 2) and (thresholds[:, 1] > thresholds[:, 0]).all()  # more ink when large


def test_items_are_fixed_per_index_held_out_and_recomposed_per_training_epoch(canvases: MNISTCaptionsDataModule):
    held_out, train = canvases.val_set, canvases.train_set
    assert torch.equal(held_out[3]["image"], held_out[3]["image"])
    first = [train[i]["image"] for i in range(8)]
    train.set_epoch(1)
    again = [train[i]["image"] for i in range(8)]
    train.set_epoch(0)
    assert any(not torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(torch.equal(a, train[i]["image"]) for i, a in enumerate(first))
    same_seed = MNISTCaptionsDataModule(val_size=200)
    same_seed.setup()
    assert torch.equal(same_seed.val_set[5]["tokens"], held_out[5]["tokens"])


def test_the_reader_reads_real_canvases_and_rejects_wrong_captions(canvases: MNISTCaptionsDataModule):
    batch = next(iter(canvases.val_dataloader()))
    thresholds = canvases.thickness_thresholds()
    scores, features = caption_scores(batch["image"], batch, canvases.layout, thresholds)
    assert features.shape == (100, 64)
    assert scores["digit"].mean() > 0.85 and scores["position"].mean() > 0.97
    assert scores["size"].nanmean() > 0.97 and scores["thickness"].nanmean() > 0.9
    assert scores["size"].isnan().sum() == (batch["size"] < 0).sum()
    wrong_digit = dict(batch, digit=(batch["digit"] + 1) % 10)
    assert caption_scores(batch["image"], wrong_digit, canvases.layout, thresholds)[0]["digit"].mean() < 0.05
    wrong_place = dict(batch, position=batch["position"] ^ 1)  # left <-> right, top <-> bottom
    scores, _ = caption_scores(batch["image"], wrong_place, canvases.layout, thresholds)
    assert scores["position"].mean() < 0.05 and scores["digit"].mean() < 0.5  # an empty window reads badly
    assert (read_position(batch["image"]) == batch["position"]).float().mean() > 0.97


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
        callbacks.append(ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=1, save_top_k=-1))
    trainer = tiny_trainer(
        folder, RESUME_STEPS, callbacks, val_check_interval=3, check_val_every_n_epoch=None, limit_val_batches=1
    )
    return trainer, tiny_model(ema_kimg=0.01)  # batch norm, a GRU, INT noise and EMAs: all must resume


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("text2image")
    trainer, model = resumable_run(folder, checkpoints=True)
    trainer.fit(model, datamodule=tiny_data())
    return {
        "folder": folder,
        "state": model.state_dict(),
        "optimizers": [opt.state_dict() for opt in trainer.optimizers],
        "rng": torch.get_rng_state(),
    }


@pytest.mark.parametrize("checkpoint", ["step=4.ckpt", "step=6.ckpt"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted: dict[str, Any], tmp_path: Path, checkpoint: str):
    trainer, model = resumable_run(tmp_path, checkpoints=False)
    trainer.fit(model, datamodule=tiny_data(), ckpt_path=uninterrupted["folder"] / checkpoint)
    assert trainer.global_step == RESUME_STEPS
    assert_same_state(model.state_dict(), uninterrupted["state"], "model")
    assert_same_state([opt.state_dict() for opt in trainer.optimizers], uninterrupted["optimizers"], "optimizers")
    assert torch.equal(torch.get_rng_state(), uninterrupted["rng"]), "random stream differs after resuming"


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


def test_prompt_on_a_model_without_text_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from gan_lightning.commands import sample as sample_command
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.tasks import GAN

    gan = GAN(DCGANGenerator(8, 8, base_width=4), DCGANDiscriminator(8, base_width=4))
    monkeypatch.setattr(sample_command, "load_module", lambda *args, **kwargs: (gan, None))
    args = sample_command.build_parser().parse_args(["x.ckpt", "--out", str(tmp_path), "--prompt", "a seven"])
    with pytest.raises(CommandLineError, match=r"--prompt needs a text-to-image model.*GAN"):
        sample_command.write_samples(args)


# ---------------------------------------------------------------------- your own captions
def write_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        Image.new("RGB", (20, 12), (20 * i, 100, 200)).save(path)
        paths.append(path)
    return paths


def test_jsonl_captions_give_image_token_batches_and_a_vocabulary_of_the_training_captions(tmp_path: Path):
    paths = write_images(tmp_path / "images", 6)
    lines = [{"image": f"images/{p.name}", "caption": f"a blue square number {i}"} for i, p in enumerate(paths)]
    lines[0]["caption"] = ["first caption", "second caption"]
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    data = CaptionDataModule(
        tmp_path / "captions.jsonl", image_size=8, channels=3, max_words=6, val_size=2, batch_size=2
    )
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (2, 3, 8, 8) and batch["tokens"].shape == (2, 6)
    assert len(data.train_set) == 4 and len(data.val_set) == 2
    assert "blue" in data.vocabulary.ids
    decoded = data.vocabulary.decode(data.val_set[0]["tokens"])
    assert decoded.startswith("a blue square number") or decoded == "first caption"


@pytest.mark.parametrize(
    ("line", "error", "match"),
    [
        (
            '{"image": "images/missing.png", "caption": "x"}',
            DataNotFoundError,
            r"line 1: image .*missing.png not found",
        ),
        ("{not json", CaptionFileError, "line 1 is not valid JSON"),
        ('{"image": "images/000.png"}', CaptionFileError, 'line 1 needs an object with "image" and "caption"'),
        ('{"image": "images/000.png", "caption": "  "}', CaptionFileError, "line 1 has an empty caption"),
    ],
)
def test_bad_jsonl_lines_are_one_line_errors_naming_the_line(tmp_path: Path, line: str, error: type, match: str):
    write_images(tmp_path / "images", 1)
    (tmp_path / "captions.jsonl").write_text(line + "\n")
    with pytest.raises(error, match=match):
        CaptionDataModule(tmp_path / "captions.jsonl", val_size=0, batch_size=1).setup()


def test_a_folder_of_images_with_txt_captions(tmp_path: Path):
    paths = write_images(tmp_path / "data", 3)
    for i, path in enumerate(paths):
        path.with_suffix(".txt").write_text(f"picture {i}\nanother view {i}\n")
    (tmp_path / "data" / "notes.md").write_text("not an image")
    with pytest.warns(UserWarning, match=r"Skipped 1 file\(s\) .* neither images nor captions: .*notes.md"):
        data = CaptionDataModule(tmp_path / "data", image_size=8, channels=1, val_size=0, batch_size=3)
        data.setup()
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (3, 1, 8, 8)
    assert {"picture", "another", "view", "0"} <= set(data.vocabulary.ids)
    paths[1].with_suffix(".txt").unlink()
    with pytest.raises(DataNotFoundError, match=r"1 image\(s\) .* no caption file: .*001.txt"):
        CaptionDataModule(tmp_path / "data", val_size=0, batch_size=1).setup()
    with pytest.raises(DataNotFoundError, match="does not exist"):
        CaptionDataModule(tmp_path / "nowhere.jsonl").setup()


def test_the_captions_data_config_trains_text2image_on_a_jsonl_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`--config configs/text2image.yaml --config configs/data/captions.yaml`: the user's path."""
    paths = write_images(tmp_path / "images", 24)
    lines = [{"image": f"images/{p.name}", "caption": f"a square of colour {i % 3}"} for i, p in enumerate(paths)]
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    monkeypatch.setattr("sys.argv", ["lightning"])
    args = ["fit", "--config", str(CONFIG), "--config", str(REPO_ROOT / "configs" / "data" / "captions.yaml")]
    args += [f"--data.init_args.path={tmp_path / 'captions.jsonl'}", "--data.init_args.batch_size=4"]
    args += ["--trainer.max_steps=1", "--trainer.accelerator=cpu", "--trainer.logger=false"]
    args += ["--trainer.limit_val_batches=1", "--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={tmp_path / 'run'}", "--checkpoint.every_n_train_steps=null"]
    cli = GANLightningCLI(args=args)
    assert cli.trainer.global_step == 1
    assert cli.model.sample_fixed().shape[1:] == (3, 64, 64)
    assert "colour" in cli.datamodule.vocabulary.ids
