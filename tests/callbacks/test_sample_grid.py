"""Sample grids reach every logger: PNG on disk always, TensorBoard events, W&B media, CSV runs,
and every logger shows the same picture as the PNG, checked by its pixels; 2D data is drawn
as a scatter plot."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from PIL import Image

from gan_lightning.callbacks import SampleGrid
from gan_lightning.data import Ring2DDataModule
from gan_lightning.loggers import WandbLogger
from gan_lightning.networks import MLPDiscriminator, MLPGenerator
from gan_lightning.tasks import GAN
from tests.conftest import TinyData, tiny_gan, tiny_trainer
from tests.helpers.wandb_records import read_records


def test_sample_grid_png_with_csv_logger(tmp_path: Path):
    grid = SampleGrid()
    trainer = tiny_trainer(tmp_path, max_steps=2, logger=CSVLogger(tmp_path, name="csv"), callbacks=[grid])
    trainer.fit(tiny_gan(num_fixed=9), TinyData())
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


def _pixels(image: Image.Image) -> np.ndarray:
    """(H, W, 3) int array: grey images are expanded, alpha is dropped."""
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def _wandb_images(run_folder: Path) -> dict[int, np.ndarray]:
    """The ``samples`` images of an offline W&B run, by ``trainer/global_step``, decoded from
    the media PNGs its history records point to."""
    images = {}
    for record in read_records(next(run_folder.glob("run-*.wandb"))):
        if record.WhichOneof("record_type") != "history":
            continue
        values = {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
        if "samples/filenames" in values:
            (filename,) = values["samples/filenames"]
            images[int(values["trainer/global_step"])] = _pixels(Image.open(run_folder / "files" / filename))
    return images


def _tensorboard_images(log_dir: str) -> dict[int, np.ndarray]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(log_dir, size_guidance={"images": 0})
    events.Reload()
    return {
        event.step: _pixels(Image.open(io.BytesIO(event.encoded_image_string))) for event in events.Images("samples")
    }


def test_wandb_tensorboard_and_png_show_the_same_picture(tmp_path: Path):
    """The defect: wandb reads a float tensor as 0-255 values, so a grid in [0, 1] logged
    as an all-black image. Every logger's image is compared by its pixels with the PNG."""
    torch.manual_seed(0)  # the tiny generator's initial weights: independent of the tests run before
    tensorboard = TensorBoardLogger(tmp_path, name="tb")
    wandb = WandbLogger(project="p", save_dir=str(tmp_path), offline=True)
    trainer = tiny_trainer(tmp_path, max_epochs=2, max_steps=-1, logger=[tensorboard, wandb], callbacks=[SampleGrid()])
    trainer.fit(tiny_gan(num_fixed=9), TinyData(num=32, batch_size=16))
    run_folder = Path(wandb.experiment.settings.sync_dir)  # offline-run-*; wandb may cache another test's WANDB_DIR
    wandb.experiment.finish()

    pngs = {int(p.stem.split("_")[1]): p for p in (Path(tensorboard.log_dir) / "samples").glob("step_*.png")}
    from_wandb = _wandb_images(run_folder)
    from_tensorboard = _tensorboard_images(tensorboard.log_dir)
    assert sorted(pngs) == sorted(from_wandb) == sorted(from_tensorboard) == [2, 4]
    for step, path in pngs.items():
        on_disk = _pixels(Image.open(path))
        assert on_disk.shape == from_wandb[step].shape == from_tensorboard[step].shape == (3 * 8 + 4 * 2,) * 2 + (3,)
        assert np.abs(from_wandb[step] - on_disk).max() <= 1, f"W&B image at step {step} differs from {path}"
        assert np.abs(from_tensorboard[step] - on_disk).max() <= 1, f"TensorBoard image at step {step} differs"
        first_sample = on_disk[2:10, 2:10]  # inside the 2 px white padding
        assert len(np.unique(first_sample)) >= 3, "the generated pixels are one constant value"
        assert on_disk.std() > 10 and on_disk.min() < 200, "the grid is blank: padding only"


def test_sample_grid_writes_a_scatter_plot_for_2d_data(make_trainer, tmp_path):
    model = GAN(
        MLPGenerator(data_shape=[2], latent_dim=4, hidden_dims=[16], output="linear"),
        MLPDiscriminator(data_shape=[2], hidden_dims=[16]),
        num_fixed=32,
    )
    grid = SampleGrid()
    trainer = make_trainer(max_steps=2, callbacks=[grid])
    trainer.fit(model, Ring2DDataModule(num_samples=600, batch_size=32, val_size=64))
    assert grid.last_path is not None and grid.last_path.exists()
    image = Image.open(grid.last_path)
    assert image.mode == "RGB" and min(image.size) > 100  # a plot, not an 8×8 grid of 2-vectors
