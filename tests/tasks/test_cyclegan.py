"""CycleGAN (Zhu et al. 2017): shapes, each loss term as the paper writes it, the LR schedule,
the held-out metrics, a short fit, exact resume (image pools included), the config through
the CLI, and DDP on two CPU processes with every rank's pool restored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI
from gan_lightning.mnist import MNISTStylesDataModule, StyleScores
from gan_lightning.networks import PatchDiscriminator, ResNetTranslator
from gan_lightning.tasks import CycleGAN
from gan_lightning.tasks.cyclegan import POOLS_KEY, ConstantThenLinearDecay
from tests.conftest import REPO_ROOT, assert_same_state, tiny_run, tiny_trainer, with_optimization

CONFIG = REPO_ROOT / "configs" / "cyclegan.yaml"
SIZE = 16


def tiny_cyclegan(**overrides: Any) -> CycleGAN:
    torch.manual_seed(0)
    kwargs: dict[str, Any] = {
        "generator_ab": ResNetTranslator(1, 1, base_width=4, num_blocks=1),
        "generator_ba": ResNetTranslator(1, 1, base_width=4, num_blocks=1),
        "discriminator_a": PatchDiscriminator(1, base_width=4, image_size=SIZE, norm="instance"),
        "discriminator_b": PatchDiscriminator(1, base_width=4, image_size=SIZE, norm="instance"),
        "pool_size": 6,
        "num_fixed": 3,
    }
    kwargs.update(overrides)
    return CycleGAN(**with_optimization(kwargs))


def styles(style: str = "thick", batch_size: int = 4) -> MNISTStylesDataModule:
    return MNISTStylesDataModule(style=style, image_size=SIZE, batch_size=batch_size, val_size=8)


def batch(size: int = 2, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {
        "a": torch.rand(size, 1, SIZE, SIZE, generator=generator) * 2 - 1,
        "b": torch.rand(size, 1, SIZE, SIZE, generator=generator) * 2 - 1,
    }


# ---------------------------------------------------------------------- shapes and loss terms
def test_strips_show_both_directions_and_their_cycles_one_row_per_pair(tmp_path: Path):
    model = tiny_cyclegan()
    data = styles()
    tiny_trainer(tmp_path, 1).fit(model, datamodule=data)
    strips = model.sample_fixed()
    assert strips.shape == (3 * CycleGAN.preview_nrow, 1, SIZE, SIZE)
    held_out = data.val_set[0]
    g_ab, g_ba = model.generator_ab.eval(), model.generator_ba.eval()
    with torch.no_grad():
        expected = [held_out["a"], g_ab(held_out["a"][None])[0], g_ba(g_ab(held_out["a"][None]))[0], held_out["b"]]
    for column, image in enumerate(expected):
        torch.testing.assert_close(strips[column], image)
    assert torch.equal(model.sample_fixed(), strips), "strips must not depend on (or consume) the RNG"


def test_translate_keeps_the_shape_and_names_a_wrong_direction():
    model = tiny_cyclegan()
    images = batch()["a"]
    assert model.translate(images, "ab").shape == images.shape == model.translate(images, "ba").shape
    with pytest.raises(ValueError, match="direction"):
        model.translate(images, "ac")


def test_generator_terms_are_the_papers():
    """Eq. 1 with least squares for G (E[(D(G(x)) − 1)²], Sec. 4), Eq. 2 with λ = 10, and the
    identity loss with weight 0.5·λ (Sec. 7.1)."""
    model = tiny_cyclegan()
    real = batch()
    loss, _, fake_b, stats = model.generator_main(real["a"], real["b"])
    g_ab, g_ba, d_a, d_b = model.generator_ab, model.generator_ba, model.discriminator_a, model.discriminator_b
    a, b = real["a"], real["b"]
    with torch.no_grad():
        expected = {
            "g_adv_ab": (d_b(g_ab(a)) - 1).pow(2).mean(),
            "g_adv_ba": (d_a(g_ba(b)) - 1).pow(2).mean(),
            "cycle_a": 10 * (g_ba(g_ab(a)) - a).abs().mean(),
            "cycle_b": 10 * (g_ab(g_ba(b)) - b).abs().mean(),
            "identity_a": 5 * (g_ba(a) - a).abs().mean(),
            "identity_b": 5 * (g_ab(b) - b).abs().mean(),
        }
    for name, value in expected.items():
        torch.testing.assert_close(stats[name], value, msg=name)
    torch.testing.assert_close(loss.detach(), sum(expected.values()))
    torch.testing.assert_close(fake_b.detach(), g_ab(a).detach())
    assert loss.requires_grad


def test_identity_weight_zero_drops_the_identity_terms():
    _, _, _, stats = tiny_cyclegan(identity_weight=0.0).generator_main(batch()["a"], batch()["b"])
    assert "identity_a" not in stats and "identity_b" not in stats


def test_discriminator_terms_are_halved_least_squares_per_domain():
    """Each D minimises ½(E[(D(y) − 1)²] + E[D(G(x))²]) (Sec. 4, "divide the objective by 2")."""
    model = tiny_cyclegan(pool_size=0)
    real, fake = batch(seed=0), batch(seed=1)
    loss, stats = model.discriminator_main(real["a"], real["b"], fake["a"], fake["b"])
    with torch.no_grad():
        d_a = 0.5 * (
            (model.discriminator_a(real["a"]) - 1).pow(2).mean() + model.discriminator_a(fake["a"]).pow(2).mean()
        )
        d_b = 0.5 * (
            (model.discriminator_b(real["b"]) - 1).pow(2).mean() + model.discriminator_b(fake["b"]).pow(2).mean()
        )
    torch.testing.assert_close(stats["d_loss_a"], d_a)
    torch.testing.assert_close(stats["d_loss_b"], d_b)
    torch.testing.assert_close(loss.detach(), d_a + d_b)


def test_discriminators_see_translations_through_their_pools():
    model = tiny_cyclegan(pool_size=3)
    real, fake = batch(size=2), batch(size=2, seed=1)
    model.discriminator_main(real["a"], real["b"], fake["a"], fake["b"])
    assert model.pool_a.count == 2 and model.pool_b.count == 2
    assert torch.equal(model.pool_a.images[0], fake["a"][0]) and torch.equal(model.pool_b.images[1], fake["b"][1])


def test_constant_then_linear_decay_reaches_zero_at_the_end():
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=2.0)
    schedule = ConstantThenLinearDecay(optimizer, total_steps=8)
    lrs = []
    for _ in range(9):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        schedule.step()
    assert lrs == pytest.approx([2.0, 2.0, 2.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.0])
    with pytest.raises(ValueError, match="decay_steps"):
        ConstantThenLinearDecay(optimizer, total_steps=4, decay_steps=5)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unpaired batches"):
        tiny_cyclegan().training_step((torch.zeros(2, 1, SIZE, SIZE), torch.zeros(2)), 0)
    with pytest.raises(ValueError, match="identity_weight: 0"):
        tiny_cyclegan(generator_ab=ResNetTranslator(1, 3, base_width=4, num_blocks=1))
    with pytest.raises(ValueError, match="cycle_weight"):
        tiny_cyclegan(cycle_weight=-1.0)


# ---------------------------------------------------------------------- held-out metrics
class _Negate(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -x


def held_out_scores(model: CycleGAN, style: str) -> dict[str, float]:
    """The task's own numbers and :class:`StyleScores` on 200 held-out digits in ``style``, as
    validation logs them (without the ``val/`` prefix)."""
    data = MNISTStylesDataModule(style=style, image_size=32, val_size=200)
    data.setup()
    batch = data.val_set.tensors
    outputs = model.held_out_outputs(batch, 0)
    scores = {**model.held_out_diagnostics(batch, outputs), **StyleScores(style).update(model, batch, outputs)}
    return {name: float(value) for name, value in scores.items()}


def test_held_out_metrics_of_a_perfect_translator():
    """The exact inverse-style translators (negation for ``inverted``) score zero L1 and cycle
    L1, sit in the target style and keep the digit the classifier reads."""
    model = tiny_cyclegan(generator_ab=_Negate(), generator_ba=_Negate(), identity_weight=0.0)
    scores = held_out_scores(model, "inverted")
    for name in ("cycle_l1", "l1_ab", "l1_ba"):
        assert scores[name] == 0, name
    assert scores["style_ab"] > 0.97 and scores["style_ba"] > 0.97
    assert scores["digit_accuracy_ab"] > 0.95 and scores["digit_accuracy_ba"] > 0.95


def test_held_out_metrics_of_the_identity_fail_style_but_not_digits():
    scores = held_out_scores(tiny_cyclegan(generator_ab=nn.Identity(), generator_ba=nn.Identity()), "thick")
    assert scores["style_ab"] < 0.05 and scores["style_ba"] < 0.05  # a stays plain, b stays thick
    assert scores["l1_ab"] > 0.05 and scores["cycle_l1"] == 0


def test_style_scores_need_the_style_of_domain_b():
    model = tiny_cyclegan()
    batch = {"a": torch.zeros(2, 1, SIZE, SIZE), "b": torch.zeros(2, 1, SIZE, SIZE)}
    with pytest.raises(ValueError, match="style of domain B"):
        StyleScores().update(model, batch, model.held_out_outputs(batch, 0))
    with pytest.raises(ValueError, match="style must be one of"):
        StyleScores("wavy")


# ---------------------------------------------------------------------- training and resume
def test_two_iterations_fill_the_pools_and_log_every_term(tmp_path: Path):
    model = tiny_cyclegan(metrics=StyleScores())
    run = tiny_trainer(tmp_path, 2, val_check_interval=2, check_val_every_n_epoch=None)
    before = {k: v.clone() for k, v in model.state_dict().items() if isinstance(v, torch.Tensor)}
    run.fit(model, datamodule=styles())
    assert run.global_step == 2  # iterations, not the 4 optimizer steps
    assert model.pool_a.count == 6 and model.pool_b.count == 6
    for name in ("g_adv_ab", "g_adv_ba", "cycle_a", "cycle_b", "identity_a", "identity_b", "d_loss_a", "d_loss_b"):
        assert torch.isfinite(run.callback_metrics[f"train/{name}"]), name
    for name in ("cycle_l1", "l1_ab", "l1_ba", "style_ab", "style_ba", "digit_accuracy_ab", "digit_accuracy_ba"):
        assert f"val/{name}" in run.callback_metrics, name
    for prefix in ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b"):
        assert any(not torch.equal(model.state_dict()[k], v) for k, v in before.items() if k.startswith(prefix))


def test_pools_are_in_the_state_dict():
    model = tiny_cyclegan()
    model.pool_a.query(batch(size=4)["a"])
    state = model.state_dict()
    assert state["pool_a._extra_state"]["images"].shape == (4, 1, SIZE, SIZE)
    fresh = tiny_cyclegan()
    fresh.load_state_dict(state)
    assert fresh.pool_a.count == 4 and fresh.pool_b.count == 0


MAX_STEPS = 5


def resume_run(folder: Path, checkpoints: bool) -> tuple[pl.Trainer, CycleGAN]:
    pl.seed_everything(0)
    model = tiny_cyclegan(
        ema_kimg=0.01,
        generator_scheduler=lambda opt: ConstantThenLinearDecay(opt, MAX_STEPS),
        discriminator_scheduler=lambda opt: ConstantThenLinearDecay(opt, MAX_STEPS),
    )
    callbacks: list[pl.Callback] = [SampleGrid(every_n_steps=2)]
    if checkpoints:
        callbacks.append(ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=1, save_top_k=-1))
    return tiny_trainer(folder, MAX_STEPS, callbacks, val_check_interval=2, check_val_every_n_epoch=None), model


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("cyclegan")
    run, model = resume_run(folder, checkpoints=True)
    run.fit(model, datamodule=styles())
    optimizers = [opt.state_dict() for opt in run.optimizers]
    return {"folder": folder, "state": model.state_dict(), "optimizers": optimizers, "rng": torch.get_rng_state()}


@pytest.mark.parametrize("step", [2, 3])
def test_resumed_run_equals_uninterrupted_run_pools_included(uninterrupted: dict[str, Any], tmp_path: Path, step: int):
    saved = torch.load(uninterrupted["folder"] / f"step={step}.ckpt", weights_only=True)
    assert saved["state_dict"]["pool_a._extra_state"]["images"].shape[0] == 6  # full: later draws swap images
    run, model = resume_run(tmp_path, checkpoints=False)
    run.fit(model, datamodule=styles(), ckpt_path=uninterrupted["folder"] / f"step={step}.ckpt")
    assert_same_state(model.state_dict(), uninterrupted["state"], "model")
    assert_same_state([opt.state_dict() for opt in run.optimizers], uninterrupted["optimizers"], "optimizers")
    assert torch.equal(torch.get_rng_state(), uninterrupted["rng"])


def test_checkpoint_from_another_world_size_keeps_the_saved_pools_with_a_warning(uninterrupted, tmp_path: Path):
    checkpoint = torch.load(uninterrupted["folder"] / "step=3.ckpt", weights_only=True)
    checkpoint[POOLS_KEY] = checkpoint[POOLS_KEY] * 2  # as written by two processes
    path = tmp_path / "two_ranks.ckpt"
    torch.save(checkpoint, path)
    run, model = resume_run(tmp_path, checkpoints=False)
    with pytest.warns(UserWarning, match="image pools of 2"):
        run.fit(model, datamodule=styles(), ckpt_path=path)
    assert_same_state(model.state_dict(), uninterrupted["state"], "model")


# ---------------------------------------------------------------------- the config, and DDP
def test_config_trains_two_iterations_through_the_cli(tmp_path: Path):
    cli = GANLightningCLI(args=[*tiny_run(CONFIG, tmp_path), "--data.init_args.image_size=16"])
    assert isinstance(cli.model, CycleGAN) and cli.trainer.global_step == 2
    assert cli.model.pool_a.count == 16 and cli.model.pool_a.size == 50
    strips = cli.model.sample_fixed()
    assert strips.shape == (cli.model.num_fixed * 6, 1, 16, 16) and torch.isfinite(strips).all()
    assert list((tmp_path / "samples").glob("step_*.png")), "no strips written"
    schedule = cli.trainer.lr_scheduler_configs[0].scheduler
    assert isinstance(schedule, ConstantThenLinearDecay) and schedule.total_steps == 2


def run_ddp(folder: Path, records: str, *extra: str) -> dict[int, dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    env.pop("WORLD_SIZE", None)
    env.pop("LOCAL_RANK", None)
    command = [
        sys.executable,
        "-m",
        "gan_lightning",
        "fit",
        "--config",
        str(CONFIG),
        "--trainer.accelerator=cpu",
        "--trainer.devices=2",
        "--trainer.strategy=ddp",
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={folder}",
        "--data.init_args.image_size=16",
        "--data.init_args.batch_size=4",
        "--model.init_args.pool_size=6",
        "--checkpoint.every_n_train_steps=1",
        "--checkpoint.save_top_k=-1",
        f"--checkpoint.dirpath={folder / 'checkpoints'}",
        "--trainer.callbacks+=tests.helpers.ddp_recorder.RecordState",
        f"--trainer.callbacks.directory={folder / records}",
        *extra,
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return {rank: torch.load(folder / records / f"rank{rank}.pt", weights_only=True) for rank in (0, 1)}


@pytest.mark.slow
def test_ddp_trains_and_resumes_every_ranks_own_pool(tmp_path: Path):
    """Two gloo processes through `--trainer.strategy=ddp`: 2 iterations, identical weights on
    both ranks but each rank's own history; a run resumed after iteration 1 ends equal to the
    uninterrupted one on every rank, pools included."""
    straight = run_ddp(tmp_path, "straight")
    first, second = straight[0]["state"], straight[1]["state"]
    assert straight[0]["strategy"] == "GANDDPStrategy" and straight[0]["global_step"] == 2
    for name, tensor in first.items():
        if not name.endswith("_extra_state"):
            assert torch.equal(tensor, second[name]), f"{name} differs between ranks"
    assert not torch.equal(first["pool_a._extra_state"]["images"], second["pool_a._extra_state"]["images"])

    (after_first,) = (tmp_path / "checkpoints").glob("*0000001.ckpt")
    saved = torch.load(after_first, weights_only=True)
    assert len(saved[POOLS_KEY]) == 2
    resumed = run_ddp(tmp_path, "resumed", f"--ckpt_path={after_first}")
    for rank in (0, 1):
        assert_same_state(resumed[rank]["state"], straight[rank]["state"], f"rank {rank}")


def test_translate_contract_needs_a_direction_and_the_trained_channels():
    model = tiny_cyclegan()
    images = torch.zeros(2, model.generator_ab.in_channels, 8, 8)
    with pytest.raises(ValueError, match="--direction"):
        model.translate(images)
    with pytest.raises(ValueError, match="channel"):
        model.translate(torch.zeros(2, model.generator_ab.in_channels + 1, 8, 8), "ab")
