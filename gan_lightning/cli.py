"""The command line: ``lightning``, ``gan-lightning`` and ``python -m gan_lightning``.

LightningCLI with jsonargparse in ``omegaconf+`` mode: ``${...}`` interpolation is
resolved after the config files and the command line are merged, so
``--trainer.max_steps=60`` also updates ``${trainer.max_steps}`` used elsewhere.
Every run saves the resolved config as ``<run folder>/config.yaml``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import jsonargparse
import lightning.pytorch as pl
from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback

from gan_lightning.callbacks import BestCheckpoint, SampleGrid
from gan_lightning.config_errors import ConfigurationError, ExplainingArgumentParser, summarize_instantiation_error
from gan_lightning.data.image_data import DataError
from gan_lightning.loggers.images import run_directory

PARSER_MODE = "omegaconf+"
SUBCOMMANDS = ("fit", "validate", "test", "predict")
#: Read before any --config: trainer, logger, checkpoints, sample grids and data shared by all configs.
DEFAULTS_FILE = Path(__file__).parent / "config" / "defaults.yaml"
# Interpolations in a config file are written from that file's root (`${data.init_args.x}`)
# even though the file is loaded under a subcommand (`fit.data...`).
jsonargparse.set_parsing_settings(omegaconf_absolute_to_relative_paths=True)


class SaveRunConfig(SaveConfigCallback):
    """Writes the resolved config into the run's own folder (next to its checkpoints and
    samples) rather than one shared ``log_dir``, and sends it to the loggers."""

    def setup(self, trainer: pl.Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        folder = run_directory(trainer)
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            self.parser.save(
                self.config, folder / self.config_filename, skip_none=False, overwrite=True, multifile=self.multifile
            )
        self.already_saved = True
        self.save_config(trainer, pl_module, stage)

    def save_config(self, trainer: pl.Trainer, pl_module: LightningModule, stage: str) -> None:
        config = self.parser.dump(self.config, skip_none=False, format="json")
        for logger in trainer.loggers:
            logger.log_hyperparams(json.loads(config))


class GANLightningCLI(LightningCLI):
    """LightningCLI for GAN experiments.

    ``model`` and ``data`` take any LightningModule / LightningDataModule by ``class_path``
    (``gan_lightning.tasks.GAN`` and ``gan_lightning.data.*`` or a user's own). Every run
    starts from :data:`DEFAULTS_FILE`. Three callbacks are always present and configurable:
    ``--checkpoint.*`` (periodic checkpoints and ``last.ckpt``, whatever is logged),
    ``--best.*`` (the best checkpoint by a logged metric, :class:`BestCheckpoint`) and
    ``--samples.*`` (fixed-noise sample grids).
    """

    def __init__(self, args: Any = None, run: bool = True, **kwargs: Any) -> None:
        command = {"parser_mode": PARSER_MODE, "default_config_files": [str(DEFAULTS_FILE)]}
        # with run=False there are no subcommands: the one parser takes the defaults itself
        parser_kwargs: dict[str, Any] = dict(command) if not run else {"parser_mode": PARSER_MODE}
        parser_kwargs.update({name: dict(command) for name in SUBCOMMANDS})
        kwargs.setdefault("parser_kwargs", parser_kwargs)
        kwargs.setdefault("save_config_callback", SaveRunConfig)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("parser_class", ExplainingArgumentParser)
        super().__init__(
            LightningModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=args,
            run=run,
            **kwargs,
        )

    def instantiate_classes(self) -> None:
        """A constructor's ValueError/TypeError becomes one readable :class:`ConfigurationError`."""
        try:
            super().instantiate_classes()
        except (ValueError, TypeError) as error:
            raise summarize_instantiation_error(error) from error

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "step_{step:07d}"})
        parser.add_lightning_class_args(BestCheckpoint, "best")
        parser.add_lightning_class_args(SampleGrid, "samples")


def importable_working_directory() -> None:
    """Put the current folder on ``sys.path``, as ``python -m`` does, so a config can name
    a user's own file (``class_path: my_paper.MyLoss`` next to ``my_paper.py``) with no
    install and no ``PYTHONPATH``."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def main(args: list[str] | None = None) -> None:
    """Entry point of the console scripts: ``evaluate``/``sample`` (checkpoint commands, see
    :mod:`gan_lightning.commands`) or a LightningCLI subcommand (``fit``, ``validate``, ...)."""
    importable_working_directory()
    argv = args if args is not None else sys.argv[1:]
    from gan_lightning.commands import COMMANDS, run

    if argv and argv[0] in COMMANDS:
        run(argv)
        return
    try:
        GANLightningCLI(args=args)  # None: LightningCLI reads sys.argv itself (no "args and argv" warning)
    except (ConfigurationError, DataError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
