"""A callback for signal tests, named on the command line
(``--trainer.callbacks+=tests.helpers.signals.WaitForSignal``): it holds the run at a known
iteration until the test has sent its signal, so the signal lands at that iteration."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl


class WaitForSignal(pl.Callback):
    """At the end of iteration ``step`` on global rank 0: write this process's id to ``marker``
    (the process to signal, also under torchrun) and wait until the test deletes it (after
    sending its signal), ``timeout`` seconds at most."""

    def __init__(self, step: int, marker: str, timeout: float = 120.0) -> None:
        self.step = step
        self.marker = Path(marker)
        self.timeout = timeout

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if trainer.global_step != self.step or not trainer.is_global_zero:
            return
        self.marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + self.timeout
        while self.marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
