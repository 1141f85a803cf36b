"""Shared by the MNIST demo tests: captioned canvases, one and two digits (one data set each for the package)."""

from __future__ import annotations

import pytest

from gan_lightning.mnist import MNISTCaptionsDataModule, MNISTTwoDigitCaptionsDataModule


@pytest.fixture(scope="package")
def canvases() -> MNISTCaptionsDataModule:
    data = MNISTCaptionsDataModule(batch_size=100, val_size=200)
    data.setup()
    return data


@pytest.fixture(scope="package")
def two_digit_canvases() -> MNISTTwoDigitCaptionsDataModule:
    data = MNISTTwoDigitCaptionsDataModule(batch_size=200, val_size=200)
    data.setup()
    return data
