"""Adaptive discriminator augmentation (Karras et al. 2020): per-sample probability p, the
r_t heuristic that steers it (around each objective's decision boundary), the pipeline and its
colour group, checkpointed state, and agreement across DDP ranks. The geometric group's warp:
test_geometric.py."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from gan_lightning.augment import (
    AdaptiveAugment,
    DiffAugment,
    ScheduledAugment,
    observe_discriminator,
    observe_real_logits,
)
from gan_lightning.augment.ada import (
    MID_GREY,
    OPERATION_NAMES,
    POLICIES,
    contrast,
    hue,
    hue_rotation,
    integer_translate,
    lumaflip,
    stages,
)
from gan_lightning.objectives import (
    HingeLoss,
    LeastSquaresLoss,
    MinimaxLoss,
    NonSaturatingLoss,
    WassersteinLoss,
)
from gan_lightning.objectives.base import AdversarialObjective
from tests.conftest import TinyData, assert_same_state, tiny_gan, tiny_trainer

ALL_OPERATIONS = sorted(OPERATION_NAMES)


def feed(augment: AdaptiveAugment, positives: int, negatives: int, times: int) -> None:
    logits = torch.cat([torch.full((positives,), 2.0), torch.full((negatives,), -3.0)])
    for _ in range(times):
        augment.observe_real_logits(logits)


# ------------------------------------------------------------------ the heuristic
def test_p_rises_when_d_is_overconfident_at_the_stated_speed():
    augment = AdaptiveAugment(interval=4, speed_kimg=1.0)  # p moves by images / 1000
    feed(augment, positives=14, negatives=2, times=3)  # r_t = 0.75 > 0.6
    assert augment.p.item() == 0.0 and augment.num_updates.item() == 3, "p moved before the interval ended"
    feed(augment, positives=14, negatives=2, times=1)
    assert augment.p.item() == pytest.approx(4 * 16 / 1000)
    assert augment.rt.item() == pytest.approx(0.75)
    assert augment.num_updates.item() == 0 and augment.sign_sum.item() == 0 and augment.num_real.item() == 0
    feed(augment, positives=14, negatives=2, times=4)
    assert augment.p.item() == pytest.approx(2 * 64 / 1000)


def test_p_falls_when_d_is_not_overconfident_and_stays_in_0_1():
    augment = AdaptiveAugment(p=0.1, interval=2, speed_kimg=1.0)
    feed(augment, positives=8, negatives=8, times=2)  # r_t = 0 < 0.6
    assert augment.p.item() == pytest.approx(0.1 - 32 / 1000)
    assert augment.rt.item() == 0.0
    feed(augment, positives=0, negatives=100, times=2)
    assert augment.p.item() == 0.0  # clamped, not negative
    high = AdaptiveAugment(p=0.99, interval=1, speed_kimg=1.0)
    feed(high, positives=100, negatives=0, times=1)
    assert high.p.item() == 1.0


def test_paper_speed_moves_p_by_batch_times_interval_over_500k():
    augment = AdaptiveAugment()  # target 0.6, interval 4, 500 kimg
    feed(augment, positives=64, negatives=0, times=4)
    assert augment.p.item() == pytest.approx(64 * 4 / 500_000)


def test_a_patch_discriminator_counts_images_not_scores():
    augment = AdaptiveAugment(interval=1, speed_kimg=1.0)
    augment.observe_real_logits(torch.ones(10, 1, 4, 4))
    assert augment.p.item() == pytest.approx(10 / 1000)


def test_fixed_p_only_measures_r_t():
    augment = AdaptiveAugment(p=0.3, target=None, interval=2)
    feed(augment, positives=3, negatives=1, times=2)
    assert augment.p.item() == pytest.approx(0.3)
    assert augment.rt.item() == pytest.approx(0.5)


def test_stats_report_p_and_r_t_as_tensors():
    augment = AdaptiveAugment(interval=1, speed_kimg=1.0)
    assert torch.isnan(augment.stats()["ada_rt"])  # no interval finished yet
    feed(augment, positives=10, negatives=0, times=1)
    stats = augment.stats()
    assert set(stats) == {"ada_p", "ada_rt"}
    assert stats["ada_p"].item() == pytest.approx(0.01) and stats["ada_rt"].item() == 1.0
    stats["ada_p"] += 1  # a copy: logging code cannot change p
    assert augment.p.item() == pytest.approx(0.01)


def test_observe_reaches_nested_adaptive_augmentations():
    ada = AdaptiveAugment(interval=1, speed_kimg=1.0)
    observe_real_logits(nn.Sequential(DiffAugment(), ada), torch.ones(5))
    assert ada.p.item() == pytest.approx(0.005)
    observe_real_logits(None, torch.ones(5))  # no augmentation: nothing to do
    observe_real_logits(DiffAugment(), torch.ones(5))  # not adaptive: ignored


# ------------------------------------------------------------------ the heuristic, per objective
def rt_after_one_update(objective: AdversarialObjective, real: list[float], fake: list[float], **kwargs: Any) -> float:
    augment = AdaptiveAugment(interval=1, **kwargs)
    augment.observe_discriminator(objective, torch.tensor(real), torch.tensor(fake))
    return augment.rt.item()


@pytest.mark.parametrize("objective", [NonSaturatingLoss(), MinimaxLoss(), HingeLoss()])
def test_logistic_and_hinge_critics_read_the_sign_around_zero(objective: AdversarialObjective):
    # signs of 2, 2, -3, 0.5 around 0: +, +, -, +
    assert rt_after_one_update(objective, [2.0, 2.0, -3.0, 0.5], [-1.0, 5.0]) == pytest.approx(0.5)


def test_least_squares_reads_the_sign_around_one_half():
    """Targets 0 (fake) and 1 (real): D* = p_data / (p_data + p_g) is indifferent at 0.5.
    Around 0, every real score here would count as real: r_t = 1 and p driven up."""
    real = [0.9, 0.6, 0.4, 0.7]  # around 0.5: +, +, -, +
    assert rt_after_one_update(LeastSquaresLoss(), real, [0.2, 0.3]) == pytest.approx(0.5)
    logistic_reading = AdaptiveAugment(interval=1)
    logistic_reading.observe_real_logits(torch.tensor(real))
    assert logistic_reading.rt.item() == 1.0


def test_a_wasserstein_critic_reads_the_sign_around_the_midpoint_of_real_and_fake_means():
    real, fake = [10.5, 11.0, 9.0], [8.0, 9.0]
    # mean real 61/6, mean fake 8.5: midpoint 28/3 = 9.33; signs +, +, -
    assert rt_after_one_update(WassersteinLoss(), real, fake) == pytest.approx(1 / 3)
    shifted = rt_after_one_update(WassersteinLoss(), [r - 100 for r in real], [f - 100 for f in fake])
    assert shifted == pytest.approx(1 / 3), "a critic's offset is arbitrary: r_t must not depend on it"


def test_the_midpoint_of_a_patch_critic_averages_every_score():
    real = torch.tensor([[3.0, 3.0], [3.0, -1.0]]).view(2, 1, 1, 2)  # mean 2
    fake = torch.zeros(3, 1, 1, 2)  # mean 0: midpoint 1
    augment = AdaptiveAugment(interval=1)
    augment.observe_discriminator(WassersteinLoss(), real, fake)
    assert augment.rt.item() == pytest.approx((1.0 + 0.0) / 2)  # image 2: one patch above, one below


def test_p_moves_by_the_objective_s_r_t():
    augment = AdaptiveAugment(p=0.1, interval=1, speed_kimg=1.0)
    augment.observe_discriminator(LeastSquaresLoss(), torch.tensor([0.9, 0.6, 0.4, 0.7]), torch.zeros(4))
    assert augment.p.item() == pytest.approx(0.1 - 4 / 1000)  # r_t = 0.5 < 0.6: p falls


def test_a_set_boundary_overrides_the_objective_s():
    real = [0.9, 0.6, 0.4, 0.7]
    assert rt_after_one_update(NonSaturatingLoss(), real, [0.0], boundary=0.5) == pytest.approx(0.5)
    # means 3 and 0: midpoint 1.5; signs -, +, +
    assert rt_after_one_update(NonSaturatingLoss(), [1.0, 2.0, 6.0], [0.0], boundary="midpoint") == pytest.approx(1 / 3)
    fixed = AdaptiveAugment(interval=1, boundary=0.5)
    fixed.observe_real_logits(torch.tensor(real))
    assert fixed.rt.item() == pytest.approx(0.5)


def test_an_unknown_objective_or_a_midpoint_without_fakes_is_refused_in_one_line():
    class Relativistic(AdversarialObjective):
        def discriminator_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
            return (fake_logits - real_logits).mean()

        def generator_loss(self, fake_logits: torch.Tensor, real_logits: Any = None) -> torch.Tensor:
            return -fake_logits.mean()

    with pytest.raises(ValueError, match="Relativistic's decision boundary: set the augment's boundary") as error:
        AdaptiveAugment().observe_discriminator(Relativistic(), torch.ones(4), torch.ones(4))
    assert "\n" not in str(error.value)
    assert rt_after_one_update(Relativistic(), [1.0, -2.0], [0.0], boundary=0.0) == 0.0
    with pytest.raises(ValueError, match="observe_discriminator"):
        AdaptiveAugment(boundary="midpoint").observe_real_logits(torch.ones(4))


def test_observe_discriminator_reaches_nested_and_older_scheduled_augmentations():
    class RealOnly(ScheduledAugment):  # written against observe_real_logits alone
        seen: torch.Tensor | None = None

        def observe_real_logits(self, logits: torch.Tensor) -> None:
            self.seen = logits

    ada, older = AdaptiveAugment(interval=1, speed_kimg=1.0), RealOnly()
    observe_discriminator(nn.Sequential(DiffAugment(), ada, older), LeastSquaresLoss(), torch.ones(5), torch.zeros(5))
    assert ada.p.item() == pytest.approx(0.005) and ada.rt.item() == 1.0
    assert torch.equal(older.seen, torch.ones(5))
    observe_discriminator(None, LeastSquaresLoss(), torch.ones(5), torch.zeros(5))  # no augmentation


# ------------------------------------------------------------------ the pipeline
def test_p_zero_is_the_identity_even_in_training():
    x = torch.rand(32, 3, 8, 8)
    assert torch.equal(AdaptiveAugment(ALL_OPERATIONS, p=0.0)(x), x)


def test_eval_mode_is_the_identity_even_at_p_one():
    x = torch.rand(8, 1, 8, 8)
    assert torch.equal(AdaptiveAugment(ALL_OPERATIONS, p=1.0).eval()(x), x)


@pytest.mark.parametrize(
    "name", ["xint", "brightness", "contrast", "cutout", "color", "translation", "scale", "rotate", "aniso", "xfrac"]
)
def test_p_one_applies_the_operation_to_every_sample(name: str):
    torch.manual_seed(0)
    x = torch.rand(1, 1, 16, 16).expand(64, 1, 16, 16).contiguous()
    out = AdaptiveAugment([name], p=1.0)(x)
    changed = (out != x).flatten(1).any(dim=1)
    # an integer shift of (0, 0) is one of the draws: 1/25 of samples may stay put
    assert changed.float().mean() > (0.85 if name in ("xint", "translation") else 0.999)


@pytest.mark.parametrize(("name", "identity_share"), [("xflip", 1 / 2), ("rotate90", 1 / 4), ("lumaflip", 1 / 2)])
def test_group_operations_draw_uniformly_when_applied(name: str, identity_share: float):
    """Applied means a uniform draw from the group (identity included), as in ADA: the
    identity stays the most likely outcome for p < 1, so the augmentation does not leak."""
    torch.manual_seed(0)
    x = torch.arange(16.0).view(1, 1, 4, 4).expand(4000, 1, 4, 4).contiguous()  # no symmetry
    for p in (1.0, 0.5):
        kept = (AdaptiveAugment([name], p=p)(x) == x).flatten(1).all(dim=1).float().mean().item()
        assert kept == pytest.approx(1 - p + p * identity_share, abs=0.03)


def test_samples_and_operations_draw_independently():
    torch.manual_seed(0)
    x = torch.ones(4000, 1, 8, 8)
    out = AdaptiveAugment(["cutout", "brightness"], p=0.5)(x).flatten(1)
    cut = out.min(dim=1).values != out.max(dim=1).values  # a square of zeros (shifted by any brightness)
    brightened = out.max(dim=1).values != 1.0  # a cut covers a quarter at most: uncut pixels remain
    assert cut.float().mean().item() == pytest.approx(0.5, abs=0.03)
    assert brightened.float().mean().item() == pytest.approx(0.5, abs=0.03)
    assert (cut & brightened).float().mean().item() == pytest.approx(0.25, abs=0.03)


def test_gradients_reach_every_sample():
    x = torch.rand(16, 3, 8, 8, requires_grad=True)
    AdaptiveAugment(ALL_OPERATIONS, p=0.7)(x).square().sum().backward()
    assert (x.grad.flatten(1).abs().sum(dim=1) > 0).all()


def test_integer_translation_moves_whole_pixels_and_reflects_the_border():
    torch.manual_seed(0)
    x = torch.rand(256, 2, 16, 16)
    out = integer_translate(x, ratio=0.125)
    for image, shifted in zip(x, out, strict=True):
        assert set(shifted.flatten().tolist()) <= set(image.flatten().tolist())  # no new values, no zero fill
    assert not torch.equal(out, x)
    shifted_right = integer_translate.__globals__["_reflect"](torch.arange(-2, 18), 16)
    assert shifted_right.tolist() == [2, 1, *range(16), 14, 13]


def test_invalid_settings_are_explained():
    with pytest.raises(ValueError, match="Unknown ADA operation"):
        AdaptiveAugment(["xflip", "zoom"])
    with pytest.raises(ValueError, match=r"Unknown ADA policy 'xflip'.*\[xflip\]"):
        AdaptiveAugment("xflip")
    for kwargs, message in (
        ({"p": 1.5}, "p must be"),
        ({"target": 1.0}, "target"),
        ({"interval": 0}, "interval"),
        ({"speed_kimg": 0}, "speed_kimg"),
        ({"boundary": "mean"}, "boundary"),
    ):
        with pytest.raises(ValueError, match=message):
            AdaptiveAugment(**kwargs)
    with pytest.raises(ValueError, match="InstanceNoise"):
        AdaptiveAugment()(torch.rand(4, 2))
    with pytest.raises(ValueError, match="square"):
        AdaptiveAugment(["rotate90"], p=1.0)(torch.rand(2, 1, 4, 6))
    with pytest.raises(ValueError, match="one score per real sample"):
        AdaptiveAugment().observe_real_logits(torch.tensor(1.0))
    with pytest.raises(ValueError, match="one score per real sample"):
        AdaptiveAugment().observe_discriminator(NonSaturatingLoss(), torch.tensor(1.0), torch.ones(2))
    with pytest.raises(ValueError, match="drop hue"):
        AdaptiveAugment(["hue"], p=1.0)(torch.rand(2, 2, 4, 4))


# ------------------------------------------------------------------ policies
def test_bgc_is_the_default_and_digits_drop_what_changes_a_digit():
    assert AdaptiveAugment().policy == list(POLICIES["bgc"])
    assert POLICIES["bgc"] == (
        *("xflip", "rotate90", "xint"),
        *("scale", "rotate", "aniso", "xfrac"),
        *("brightness", "contrast", "lumaflip", "hue", "saturation"),
    )
    assert set(POLICIES["bgc"]) - set(POLICIES["digits"]) == {"xflip", "rotate90", "rotate"}
    assert AdaptiveAugment("digits").policy == list(POLICIES["digits"])
    assert AdaptiveAugment(["xflip", "cutout"]).policy == ["xflip", "cutout"]  # lists of names still work


def test_each_run_of_geometric_operations_is_one_warp():
    policy = ["xflip", "scale", "rotate", "brightness", "xfrac"]
    assert stages(policy) == ["xflip", ("scale", "rotate"), "brightness", ("xfrac",)]
    assert stages(POLICIES["bgc"])[3] == ("scale", "rotate", "aniso", "xfrac")


def test_p_does_not_shift_the_random_stream():
    x = torch.rand(16, 3, 8, 8)
    states = []
    for p in (0.0, 0.6, 1.0):
        torch.manual_seed(0)
        AdaptiveAugment(p=p)(x)
        states.append(torch.random.get_rng_state())
    assert torch.equal(states[0], states[1]) and torch.equal(states[0], states[2])


# ------------------------------------------------------------------ the colour group
def test_contrast_scales_around_mid_grey_not_the_image_mean():
    x = torch.rand(64, 3, 4, 4) * 2 - 1
    x[:, :, 0, 0] = MID_GREY
    torch.manual_seed(0)
    factor = torch.exp2(torch.randn(64) * 0.5).view(-1, 1, 1, 1)
    torch.manual_seed(0)
    out = contrast(x)
    torch.testing.assert_close(out, x * factor)  # MID_GREY is 0: the middle of [-1, 1]
    assert MID_GREY == 0.0 and out[:, :, 0, 0].abs().max() == 0
    assert not torch.allclose(out.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)))  # the mean moves with it


def test_lumaflip_reflects_the_grey_component_about_mid_grey():
    torch.manual_seed(0)
    x = torch.rand(256, 3, 4, 4) * 2 - 1
    out = lumaflip(x)
    grey = x.mean(dim=1, keepdim=True)
    flipped = ~(out == x).flatten(1).all(dim=1)
    torch.testing.assert_close(out[flipped], (x - 2 * grey)[flipped])
    torch.testing.assert_close(out[flipped].mean(dim=1), -grey[flipped].squeeze(1))  # luma negated, chroma kept
    assert flipped.float().mean().item() == pytest.approx(0.5, abs=0.1)
    one_channel = torch.rand(64, 1, 4, 4)
    assert set(torch.unique(lumaflip(one_channel) / one_channel).tolist()) == {-1.0, 1.0}


def test_hue_rotation_turns_colours_about_the_grey_axis():
    x = torch.rand(4, 3, 5, 5) * 2 - 1
    third = hue_rotation(x, torch.full((4,), 2 * math.pi / 3))
    torch.testing.assert_close(third, x.roll(1, dims=1))  # red -> green -> blue -> red
    turned = hue_rotation(x, torch.rand(4) * 6)
    torch.testing.assert_close(turned.mean(dim=1), x.mean(dim=1))  # luma kept
    grey = x.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    torch.testing.assert_close(hue_rotation(grey, torch.rand(4) * 6), grey)
    assert torch.equal(hue(x[:, :1]), x[:, :1])  # one channel: nothing to turn


# ------------------------------------------------------------------ inside the GAN module
def test_gan_observes_real_logits_once_per_discriminator_update(make_trainer):
    ada = AdaptiveAugment(interval=1000)
    make_trainer(max_steps=3).fit(tiny_gan(augment=ada, n_critic=2), TinyData(batch_size=16))
    assert ada.num_updates.item() == 6 and ada.num_real.item() == 6 * 16


def test_the_gan_scores_through_the_same_pipeline_for_reals_and_fakes():
    """``score`` is the one path to D for real and generated batches: augmented in training
    (fresh draws per call, as in ADA), untouched in eval."""
    model = tiny_gan(augment=AdaptiveAugment("bgc", p=1.0, target=None))
    x = torch.rand(4, 1, 8, 8) * 2 - 1
    torch.manual_seed(3)
    scored = model.score(x, None)
    torch.manual_seed(3)
    assert torch.equal(scored, model.discriminator(model.augment(x)))
    assert not torch.equal(scored, model.discriminator(x))
    model.eval()
    assert torch.equal(model.score(x, None), model.discriminator(x))


def test_generator_learns_through_ada(make_trainer):
    model = tiny_gan(augment=AdaptiveAugment(ALL_OPERATIONS, p=1.0, target=None))
    before = [p.detach().clone() for p in model.generator.parameters()]
    make_trainer(max_steps=1).fit(model, TinyData())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters(), strict=True))


def test_p_and_accumulators_are_in_the_state_dict():
    model = tiny_gan(augment=AdaptiveAugment())
    keys = {key for key in model.state_dict() if key.startswith("augment.")}
    assert keys == {f"augment.{name}" for name in ("p", "rt", "sign_sum", "num_real", "num_updates")}


MAX_STEPS = 9


def ada_run(folder: Path, ckpt_every: int | None = None) -> tuple[pl.Trainer, Any, AdaptiveAugment]:
    torch.set_num_threads(1)
    pl.seed_everything(0)
    # interval 3 with n_critic 2: checkpoints fall mid-interval; speed so fast that p moves each interval
    ada = AdaptiveAugment(interval=3, speed_kimg=0.5, target=0.2)
    model = tiny_gan(augment=ada, n_critic=2, ema_kimg=0.1)
    callbacks: list[pl.Callback] = []
    if ckpt_every:
        callbacks.append(
            ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=ckpt_every, save_top_k=-1)
        )
    return tiny_trainer(folder, MAX_STEPS, callbacks), model, ada


def test_resumed_ada_run_ends_bit_identical(tmp_path: Path):
    from gan_lightning.data import Digits8x8DataModule

    def data() -> Digits8x8DataModule:
        return Digits8x8DataModule(batch_size=16, val_size=1797 - 64)

    trainer, model, ada = ada_run(tmp_path / "full", ckpt_every=1)
    trainer.fit(model, datamodule=data())
    checkpoint = torch.load(tmp_path / "full" / "step=4.ckpt", weights_only=True)["state_dict"]
    assert checkpoint["augment.num_updates"] != 0, "the checkpoint should fall mid-interval"
    assert checkpoint["augment.p"] != ada.p, "p must move after the checkpoint for the test to mean anything"

    resumed_trainer, resumed, resumed_ada = ada_run(tmp_path / "resumed")
    resumed_trainer.fit(resumed, datamodule=data(), ckpt_path=tmp_path / "full" / "step=4.ckpt")
    assert_same_state(resumed.state_dict(), model.state_dict(), "model")
    assert torch.equal(resumed_ada.p, ada.p)


# ------------------------------------------------------------------ DDP
def _ddp_worker(rank: int, init_file: str, results: Any) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    try:
        ada = AdaptiveAugment(interval=2, speed_kimg=1.0)
        # rank 0 sees a confident D (all positive), rank 1 a doubtful one (half positive)
        logits = torch.ones(12) if rank == 0 else torch.cat([torch.ones(2), -torch.ones(2)])
        for _ in range(2):
            ada.observe_real_logits(logits)
        results[rank] = (ada.p.item(), ada.rt.item())
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_ranks_agree_on_p_from_all_reduced_signs(tmp_path: Path):
    results = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(str(tmp_path / "init"), results), nprocs=2, join=True)
    expected_rt = (2 * 12 + 2 * 0) / (2 * 12 + 2 * 4)  # 24 / 32 = 0.75 > 0.6: p rises by 32 images
    assert results[0] == results[1]
    assert results[0][1] == pytest.approx(expected_rt)
    assert results[0][0] == pytest.approx(32 / 1000)


def test_the_gan_task_reads_r_t_around_its_objectives_boundary(make_trainer, tiny_data) -> None:
    """A least-squares D scores reals near 1: read around 0 (the logistic boundary), r_t would be
    ~1 whatever D has learnt. The GAN task hands ADA the objective and both scores each D update."""
    from gan_lightning.objectives import LeastSquaresLoss
    from tests.conftest import tiny_gan

    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    ada = AdaptiveAugment(interval=1)
    original = ada.observe_discriminator

    def record(objective, real_logits, fake_logits):
        seen.append((real_logits, fake_logits))
        original(objective, real_logits, fake_logits)

    ada.observe_discriminator = record
    make_trainer(max_steps=1).fit(tiny_gan(objective=LeastSquaresLoss(), augment=ada), datamodule=tiny_data)
    real, _ = seen[-1]
    assert float(ada.rt) == pytest.approx(float(torch.sign(real - 0.5).mean()), abs=1e-6)
