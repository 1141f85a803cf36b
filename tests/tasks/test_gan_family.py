"""The GAN family through the one GAN module: TTUR, conditional training with a per-class
grid, PacGAN, minibatch stddev, StyleGAN with lazy R1, and EMA with batch-norm buffers."""

from __future__ import annotations

from functools import partial

import torch

from gan_lightning.networks import (
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
    ResNetDiscriminator,
    ResNetGenerator,
    StyleGAN2Generator,
)
from gan_lightning.objectives import HingeLoss
from gan_lightning.regularizers import R1Penalty
from gan_lightning.tasks import GAN
from tests.conftest import TinyData, tiny_gan


def test_ttur_gives_each_network_its_own_learning_rate(make_trainer):
    model = tiny_gan(
        generator_optimizer=partial(torch.optim.Adam, lr=1e-4, betas=(0.0, 0.9)),
        discriminator_optimizer=partial(torch.optim.Adam, lr=4e-4, betas=(0.0, 0.9)),
    )
    trainer = make_trainer(max_steps=1)
    trainer.fit(model, TinyData())
    generator_opt, discriminator_opt = trainer.optimizers
    assert generator_opt.param_groups[0]["lr"] == 1e-4 and discriminator_opt.param_groups[0]["lr"] == 4e-4
    assert trainer.callback_metrics["train/lr_g"] == 1e-4 and trainer.callback_metrics["train/lr_d"] == 4e-4


def conditional_gan() -> GAN:
    return GAN(
        ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=10),
        ResNetDiscriminator(image_size=8, channels=1, width=8, num_classes=10),
        objective=HingeLoss(),
        num_fixed=20,
    )


def test_conditional_gan_trains_and_its_fixed_grid_cycles_the_classes(make_trainer):
    model = conditional_gan()
    assert model.fixed_labels.tolist() == list(range(10)) * 2  # one class per column of a 10-wide grid
    make_trainer(max_steps=2).fit(model, TinyData())
    assert model.sample_fixed().shape == (20, 1, 8, 8)
    digits = torch.full((3,), 7)
    assert model.sample(3, labels=digits).shape == (3, 1, 8, 8)


def test_pacgan_trains_through_the_module_and_validation(make_trainer):
    model = GAN(
        MLPGenerator(data_shape=[1, 8, 8], latent_dim=4, hidden_dims=[16]),
        PackedDiscriminator(MLPDiscriminator(data_shape=[4, 8, 8], hidden_dims=[16]), pack=4),
        num_fixed=4,
    )
    trainer = make_trainer(max_steps=2)
    trainer.fit(model, TinyData())
    assert trainer.global_step == 2
    (validation,) = trainer.validate(model, TinyData(), verbose=False)
    assert torch.isfinite(torch.tensor(validation["val/d_loss"]))


def test_stylegan_with_lazy_r1_and_minibatch_std_trains(make_trainer):
    r1 = R1Penalty(weight=1.0, interval=2)
    model = GAN(
        StyleGAN2Generator(latent_dim=8, image_size=8, channels=1, width=8, w_dim=8, mapping_layers=2),
        ResNetDiscriminator(image_size=8, channels=1, width=8, spectral=False, minibatch_std_group=4),
        regularizers=[r1],
        num_fixed=4,
    )
    trainer = make_trainer(max_steps=3)
    trainer.fit(model, TinyData())
    assert "train/R1Penalty" in trainer.callback_metrics  # due at D steps 0 and 2
    assert torch.equal(model.generator_ema.w_avg, model.generator.w_avg)  # buffers follow into the EMA


def test_ema_copies_batch_norm_statistics(make_trainer):
    model = tiny_gan(generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=4, norm="batch"))
    make_trainer(max_steps=2).fit(model, TinyData())
    for averaged, current in zip(model.generator_ema.buffers(), model.generator.buffers(), strict=True):
        assert torch.equal(averaged, current)
    assert any(
        not torch.equal(a, p)
        for a, p in zip(model.generator_ema.parameters(), model.generator.parameters(), strict=True)
    )
