"""Rebuilding a task from a checkpoint: the run's config.yaml is found beside checkpoints/, or
named, and a missing one is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.commands.loading import load_module


def test_module_rebuilds_from_checkpoint_or_config_and_says_what_is_missing(wgan_run: Path, tmp_path: Path) -> None:
    checkpoint = wgan_run / "checkpoints" / "last.ckpt"
    found, used = load_module(checkpoint, metrics=None)  # config.yaml found next to checkpoints/
    assert used == wgan_run / "config.yaml" and not len(found.metrics)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(found.state_dict()[key], value) for key, value in state.items())
    copied = tmp_path / "elsewhere" / "copy.ckpt"
    copied.parent.mkdir()
    copied.write_bytes(checkpoint.read_bytes())
    with pytest.raises(FileNotFoundError, match="--config"):
        load_module(copied)
    explicit, _ = load_module(copied, wgan_run / "config.yaml")
    latent = torch.randn(3, found.latent_dim)
    assert torch.equal(found.generate(latent), explicit.generate(latent))
