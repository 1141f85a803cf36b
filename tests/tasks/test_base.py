"""The task base: one optimization argument shown by --help, hyper-parameters saved once,
capabilities declared, and old run configs that keep loading."""

from __future__ import annotations

import pytest

from gan_lightning.commands.loading import upgrade_init_args
from gan_lightning.errors import CapabilityError
from gan_lightning.tasks import GAN, Pix2Pix
from gan_lightning.training import Optimization, RoleOptimization
from tests.conftest import tiny_gan


def test_plain_arguments_are_saved_once_by_the_base_and_parts_are_not():
    model = Pix2Pix(source_channels=1, target_channels=1, image_size=32, l1_weight=50.0, num_fixed=4)
    assert {
        "l1_weight": 50.0,
        "num_fixed": 4,
        "sample_mode": "train",
        "image_size": 32,
    }.items() <= model.hparams.items()
    assert not {"generator", "discriminator", "objective", "optimization", "metrics"} & set(model.hparams)


def test_every_role_takes_its_optimizer_schedule_and_clip_norm_from_one_argument():
    import torch

    optimization = Optimization(
        generator=RoleOptimization(optimizer=lambda p: torch.optim.SGD(p, lr=0.1)),
        discriminator=RoleOptimization(clip_norm=0.5),
        ema_kimg=None,
    )
    model = tiny_gan(optimization=optimization)
    generator_optimizer, discriminator_optimizer = model.configure_optimizers()
    assert isinstance(generator_optimizer, torch.optim.SGD) and generator_optimizer.param_groups[0]["lr"] == 0.1
    assert isinstance(discriminator_optimizer, torch.optim.Adam)  # unset: Adam(2e-4, (0.5, 0.999))
    assert discriminator_optimizer.param_groups[0]["betas"] == (0.5, 0.999)
    assert model.generator_ema is None


def test_a_missing_capability_is_a_one_line_error_and_offers_says_so():
    gan, translator = tiny_gan(), Pix2Pix(source_channels=1, target_channels=1, image_size=32)
    assert gan.offers("sample") and not gan.offers("translate") and not gan.offers("sample_captions")
    assert translator.offers("translate") and not translator.offers("sample")
    with pytest.raises(CapabilityError, match="does not translate images"):
        gan.translate(gan.sample(1))
    with pytest.raises(ValueError, match="Unknown capability"):
        gan.offers("fly")


def test_run_configs_written_before_the_optimization_argument_still_load():
    old = {
        "generator_optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 1e-3}},
        "discriminator_clip_norm": 1.0,
        "ema_kimg": None,
        "num_fixed_samples": 16,
        "n_critic": 2,
    }
    assert upgrade_init_args(old) == {
        "n_critic": 2,
        "num_fixed": 16,
        "optimization": {
            "generator": {"optimizer": {"class_path": "torch.optim.Adam", "init_args": {"lr": 1e-3}}},
            "discriminator": {"clip_norm": 1.0},
            "ema_kimg": None,
        },
    }


def test_help_shows_the_whole_optimization_argument(capsys):
    from gan_lightning.cli import GANLightningCLI

    with pytest.raises(SystemExit):
        GANLightningCLI(args=["--model=gan_lightning.tasks.GAN", "--model.help", "gan_lightning.tasks.GAN"], run=False)
    shown = capsys.readouterr().out
    for flag in ("optimization.generator.optimizer", "optimization.discriminator.clip_norm", "optimization.ema_kimg"):
        assert flag in shown, flag
    assert GAN.__init__.__defaults__ is not None


def test_training_values_are_logged_only_on_the_iterations_lightning_writes_and_the_last(make_trainer, tiny_data):
    model = tiny_gan()
    logged: dict[str, list[int]] = {"train/d_loss": [], "train/grad_norm_d": [], "train/grad_norm_g": []}
    original_log = model.log

    def log(name, value, *args, **kwargs):
        if name in logged:
            logged[name].append(model.trainer.global_step)
        return original_log(name, value, *args, **kwargs)

    model.log = log
    make_trainer(max_steps=7, log_every_n_steps=3).fit(model, datamodule=tiny_data)
    # Lightning writes iterations 3 and 6 (global_step counts G updates: 2 before the G step of
    # iteration 3, 3 after it); 7 is the last. The norms are computed only to be logged.
    assert logged["train/d_loss"] == [3, 6, 7]
    assert logged["train/grad_norm_d"] == logged["train/grad_norm_g"] == [2, 5, 6]


@pytest.mark.parametrize("progress_bar, expected", [(False, [3, 6, 7]), (True, [1, 2, 3, 4, 5, 6, 7])])
def test_progress_bar_values_are_logged_every_iteration_only_when_a_bar_shows_them(
    make_trainer, tiny_data, progress_bar, expected
):
    model = tiny_gan()
    logged: list[int] = []
    original_log = model.log

    def log(name, value, *args, **kwargs):
        if name == "g_loss":
            logged.append(model.trainer.global_step)
        return original_log(name, value, *args, **kwargs)

    model.log = log
    trainer = make_trainer(max_steps=7, log_every_n_steps=3, enable_progress_bar=progress_bar)
    trainer.fit(model, datamodule=tiny_data)
    # Without a bar nothing reads them in between: the logging iterations and the last, so
    # callback_metrics still ends with the last iteration's values.
    assert logged == expected
    assert {"d_loss", "g_loss"} <= set(trainer.callback_metrics)
