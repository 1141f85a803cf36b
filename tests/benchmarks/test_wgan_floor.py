"""The main command's benchmark runs what a user types, plus only the flags asked for."""

from __future__ import annotations

from benchmarks.wgan_floor import user_flags


def test_the_config_as_shipped_adds_no_flag():
    assert user_flags(None, None) == []


def test_another_seed_and_length_are_the_cli_flags():
    assert user_flags(500, 2) == ["--trainer.max_steps=500", "--seed_everything=2"]
    assert user_flags(None, 0) == ["--seed_everything=0"]
