"""The divergence guard stops (or skips) on NaN/inf and exploding gradients with a message
that names the iteration and the last good checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from gan_lightning.callbacks import DivergenceError, DivergenceGuard


class PoisonAt(nn.Module):
    """Wraps a discriminator and returns NaN scores from a given call on."""

    def __init__(self, discriminator: nn.Module, from_call: int) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.from_call = from_call
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        scores = self.discriminator(x)
        return scores * float("nan") if self.calls >= self.from_call else scores


def poisoned_gan(make_gan, from_call: int):
    from tests.conftest import tiny_gan

    base = tiny_gan()
    return make_gan(discriminator=PoisonAt(base.discriminator, from_call), ema_kimg=None)


def test_nan_stops_with_iteration_and_last_checkpoint(make_gan, make_trainer, tiny_data, tmp_path: Path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=1, save_last=True)
    # 3 D calls per iteration (real, fake, G phase): NaN from iteration 2 on
    trainer = make_trainer(max_steps=4, enable_checkpointing=True, callbacks=[DivergenceGuard(), checkpoint])
    with pytest.raises(DivergenceError) as error:
        trainer.fit(poisoned_gan(make_gan, from_call=7), datamodule=tiny_data)
    message = str(error.value)
    assert "iteration 2" in message and "discriminator" in message and "not finite" in message
    assert "--ckpt_path=" in message and "last.ckpt" in message
    saved = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)
    assert all(torch.isfinite(v).all() for v in saved["state_dict"].values() if v.is_floating_point())


def test_skip_mode_drops_bad_steps_and_keeps_weights_finite(make_gan, make_trainer, tiny_data):
    guard = DivergenceGuard(action="skip", max_consecutive_skips=100)
    model = poisoned_gan(make_gan, from_call=4)
    trainer = make_trainer(max_steps=3, callbacks=[guard])
    trainer.fit(model, datamodule=tiny_data)
    assert trainer.global_step == 3
    assert guard.skipped_steps == 4  # D and G steps of iterations 1 and 2 (iteration 0 was clean)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_skip_mode_gives_up_after_too_many_skips(make_gan, make_trainer, tiny_data):
    trainer = make_trainer(max_steps=4, callbacks=[DivergenceGuard(action="skip", max_consecutive_skips=2)])
    with pytest.raises(DivergenceError, match="3 optimizer steps in a row"):
        trainer.fit(poisoned_gan(make_gan, from_call=1), datamodule=tiny_data)


def test_exploding_gradient_norm_is_caught(make_gan, make_trainer, tiny_data):
    trainer = make_trainer(max_steps=2, callbacks=[DivergenceGuard(max_grad_norm=1e-12)])
    with pytest.raises(DivergenceError, match=r"iteration 0.*gradient norm .* exceeds max_grad_norm=1e-12"):
        trainer.fit(make_gan(), datamodule=tiny_data)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"action": "ignore"}, "action"), ({"max_grad_norm": -1.0}, "max_grad_norm"), ({"max_consecutive_skips": 0}, "")],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DivergenceGuard(**kwargs)
