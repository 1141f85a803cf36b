"""Shared by the MNIST demo tests: captioned canvases (one data set for the package)."""

from __future__ import annotations

import pytest

from gan_lightning.mnist import MNISTCaptionsDataModule


@pytest.fixture(scope="package")
def canvases() -> MNISTCaptionsDataModule:
    data = MNISTCaptionsDataModule(batch_size=100, val_size=200)
    data.setup()
    return data
