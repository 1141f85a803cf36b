"""A checkpoint of another architecture is refused when resuming or loading, naming the tensors
that differ; a matching one loads, and strict=False still allows a deliberate partial load."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.checkpoint import ArchitectureMismatchError
from gan_lightning.tasks import GAN
from tests.conftest import tiny_gan


def test_checkpoint_of_another_architecture_when_resuming(wide_checkpoint, make_trainer, tiny_data):
    with pytest.raises(ArchitectureMismatchError, match=r"different architecture.*differ in shape.*discriminator\."):
        make_trainer(max_steps=2).fit(tiny_gan(), datamodule=tiny_data, ckpt_path=wide_checkpoint)


def test_checkpoint_of_another_architecture_when_loading(wide_checkpoint):
    with pytest.raises(ArchitectureMismatchError, match=r"config\.yaml"):
        GAN.load_from_checkpoint(
            wide_checkpoint, generator=tiny_gan().generator, discriminator=tiny_gan().discriminator, weights_only=True
        )


def test_matching_checkpoint_loads(wide_checkpoint):
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    model = GAN.load_from_checkpoint(
        wide_checkpoint,
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        weights_only=True,
    )
    assert torch.isfinite(model.sample(2)).all()


def test_non_strict_loading_still_allows_missing_tensors(wide_checkpoint):
    """`strict=False` is a deliberate partial load (here: a model without the EMA copy)."""
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
    from gan_lightning.training import Optimization

    model = GAN.load_from_checkpoint(
        wide_checkpoint,
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        optimization=Optimization(ema_kimg=None),
        strict=False,
        weights_only=True,
    )
    assert model.generator_ema is None


def test_resuming_with_missing_tensors_names_them(wide_checkpoint, make_trainer, tiny_data):
    from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator

    model = tiny_gan(
        generator=DCGANGenerator(latent_dim=8, image_size=8, channels=1, base_width=8),
        discriminator=DCGANDiscriminator(image_size=8, channels=1, base_width=8, norm="none"),
        ema_kimg=None,
    )
    with pytest.raises(ArchitectureMismatchError, match=r"in it are not in the model \(generator_ema\."):
        make_trainer(max_steps=2).fit(model, datamodule=tiny_data, ckpt_path=wide_checkpoint)
