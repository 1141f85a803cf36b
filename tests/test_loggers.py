"""Sample grids reach every logger: PNG on disk always, TensorBoard events, CSV runs."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from PIL import Image

from gan_lightning.callbacks import SampleGrid
from tests.conftest import TinyData, tiny_gan, tiny_trainer


def test_sample_grid_png_with_csv_logger(tmp_path: Path):
    grid = SampleGrid()
    trainer = tiny_trainer(tmp_path, max_steps=2, logger=CSVLogger(tmp_path, name="csv"), callbacks=[grid])
    trainer.fit(tiny_gan(num_fixed_samples=9), TinyData())
    pngs = sorted((Path(trainer.logger.log_dir) / "samples").glob("step_*.png"))
    assert [p.name for p in pngs] == ["step_0000002.png"]
    width, height = Image.open(pngs[0]).size
    assert width == height == 3 * 8 + 4 * 2  # a 3×3 grid of 8 px images with 2 px padding


def test_sample_grid_every_epoch_and_tensorboard_events(tmp_path: Path):
    logger = TensorBoardLogger(tmp_path, name="tb")
    trainer = tiny_trainer(tmp_path, max_epochs=2, max_steps=-1, logger=logger, callbacks=[SampleGrid()])
    trainer.fit(tiny_gan(), TinyData(num=32, batch_size=16))  # 2 iterations per epoch
    pngs = sorted((Path(logger.log_dir) / "samples").glob("step_*.png"))
    assert [p.name for p in pngs] == ["step_0000002.png", "step_0000004.png"]
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(logger.log_dir)
    events.Reload()
    assert "samples" in events.Tags()["images"]
    assert [event.step for event in events.Images("samples")] == [2, 4]
