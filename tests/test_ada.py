"""Adaptive discriminator augmentation (Karras et al. 2020): per-sample probability p, the
r_t heuristic that steers it, checkpointed state, and agreement across DDP ranks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from gan_lightning.augment import AdaptiveAugment, DiffAugment, observe_real_logits
from gan_lightning.augment.ada import OPERATIONS, integer_translate
from tests.conftest import TinyData, tiny_gan
from tests.test_resume import assert_same_state

ALL_OPERATIONS = sorted(OPERATIONS)


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


# ------------------------------------------------------------------ the pipeline
def test_p_zero_is_the_identity_even_in_training():
    x = torch.rand(32, 3, 8, 8)
    assert torch.equal(AdaptiveAugment(ALL_OPERATIONS, p=0.0)(x), x)


def test_eval_mode_is_the_identity_even_at_p_one():
    x = torch.rand(8, 1, 8, 8)
    assert torch.equal(AdaptiveAugment(ALL_OPERATIONS, p=1.0).eval()(x), x)


@pytest.mark.parametrize("name", ["xint", "brightness", "contrast", "cutout", "color", "translation"])
def test_p_one_applies_the_operation_to_every_sample(name: str):
    torch.manual_seed(0)
    x = torch.rand(1, 1, 16, 16).expand(64, 1, 16, 16).contiguous()
    out = AdaptiveAugment([name], p=1.0)(x)
    changed = (out != x).flatten(1).any(dim=1)
    # an integer shift of (0, 0) is one of the draws: 1/25 of samples may stay put
    assert changed.float().mean() > (0.85 if name in ("xint", "translation") else 0.999)


@pytest.mark.parametrize(("name", "identity_share"), [("xflip", 1 / 2), ("rotate90", 1 / 4)])
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
    with pytest.raises(ValueError, match="list of operation names"):
        AdaptiveAugment("xflip")
    for kwargs, message in (
        ({"p": 1.5}, "p must be"),
        ({"target": 1.0}, "target"),
        ({"interval": 0}, "interval"),
        ({"speed_kimg": 0}, "speed_kimg"),
    ):
        with pytest.raises(ValueError, match=message):
            AdaptiveAugment(**kwargs)
    with pytest.raises(ValueError, match="InstanceNoise"):
        AdaptiveAugment()(torch.rand(4, 2))
    with pytest.raises(ValueError, match="square"):
        AdaptiveAugment(["rotate90"], p=1.0)(torch.rand(2, 1, 4, 6))
    with pytest.raises(ValueError, match="one score per real sample"):
        AdaptiveAugment().observe_real_logits(torch.tensor(1.0))


# ------------------------------------------------------------------ inside the GAN module
def test_gan_observes_real_logits_once_per_discriminator_update(make_trainer):
    ada = AdaptiveAugment(interval=1000)
    make_trainer(max_steps=3).fit(tiny_gan(augment=ada, n_critic=2), TinyData(batch_size=16))
    assert ada.num_updates.item() == 6 and ada.num_real.item() == 6 * 16


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
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=MAX_STEPS,
        logger=False,
        enable_checkpointing=bool(ckpt_every),
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        callbacks=callbacks,
        default_root_dir=folder,
    )
    return trainer, model, ada


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


def test_ranks_agree_on_p_from_all_reduced_signs(tmp_path: Path):
    results = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(str(tmp_path / "init"), results), nprocs=2, join=True)
    expected_rt = (2 * 12 + 2 * 0) / (2 * 12 + 2 * 4)  # 24 / 32 = 0.75 > 0.6: p rises by 32 images
    assert results[0] == results[1]
    assert results[0][1] == pytest.approx(expected_rt)
    assert results[0][0] == pytest.approx(32 / 1000)
