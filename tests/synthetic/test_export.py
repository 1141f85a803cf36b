"""Labelled sample export: class lists and their cycling."""

from __future__ import annotations

import pytest

from gan_lightning.errors import CommandLineError
from gan_lightning.synthetic import (
    cycled_labels,
    parse_classes,
)


def test_label_parsing_and_cycling():
    assert parse_classes("balanced", 4) == [0, 1, 2, 3]
    assert parse_classes("2, 0", 4) == [2, 0]
    for bad in ("four", "4", "-1", ""):
        with pytest.raises(CommandLineError):
            parse_classes(bad, 4)
    assert cycled_labels(7, [2, 0]).tolist() == [2, 0, 2, 0, 2, 0, 2]
