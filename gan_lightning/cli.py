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
import warnings
from pathlib import Path
from typing import Any, NoReturn

import jsonargparse
import lightning.pytorch as pl
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from lightning.pytorch.utilities import rank_zero_warn

from gan_lightning.callbacks import BestCheckpoint, PeriodicCheckpoint, Preemption, RunSummary, SampleGrid
from gan_lightning.checkpoint import load_checkpoint_file
from gan_lightning.commands.config_errors import ExplainingArgumentParser, summarize_instantiation_error
from gan_lightning.config.compose import EXTENDS, expand_config_arguments
from gan_lightning.errors import DataSetupError, GanLightningError, is_user_error, one_line
from gan_lightning.loggers.images import run_directory
from gan_lightning.seams import CheckpointHyperparametersSeam
from gan_lightning.strategies import close_process_group, register_gan_ddp

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
        self.config[EXTENDS] = None  # the saved config is the whole model: it extends nothing
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


#: The always-present checkpoint callbacks: left out when ``--trainer.enable_checkpointing=false``.
CHECKPOINT_KEYS = ("checkpoint", "best", "preemption")
CHECKPOINT_CALLBACKS = (PeriodicCheckpoint, BestCheckpoint, Preemption)


class GANLightningCLI(CheckpointHyperparametersSeam, LightningCLI):
    """LightningCLI for GAN experiments.

    ``model`` and ``data`` take any LightningModule / LightningDataModule by ``class_path``
    (``gan_lightning.tasks.GAN`` and ``gan_lightning.data.*`` or a user's own). Every run
    starts from :data:`DEFAULTS_FILE`. Five callbacks are always present and configurable:
    ``--checkpoint.*`` (periodic checkpoints and ``last.ckpt``, whatever is logged),
    ``--best.*`` (the best checkpoint by a logged metric, :class:`BestCheckpoint`),
    ``--preemption.*`` (SIGTERM/SIGUSR1 save ``last.ckpt`` and exit, :class:`Preemption`),
    ``--samples.*`` (fixed-noise sample grids) and ``--summary.*`` (:class:`RunSummary`,
    printed at the end of fit). ``--trainer.strategy=ddp`` builds
    :class:`~gan_lightning.strategies.GANDDPStrategy` (:func:`register_gan_ddp`).
    """

    def __init__(self, args: Any = None, run: bool = True, **kwargs: Any) -> None:
        args = with_extended_configs(args)
        register_gan_ddp()
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
        """A constructor's ValueError/TypeError becomes one readable :class:`ConfigurationError`;
        the data module's set-up reports any failure as a :class:`DataSetupError`."""
        try:
            super().instantiate_classes()
        except (ValueError, TypeError, MisconfigurationException) as error:  # the last: a Trainer setting
            if isinstance(error, GanLightningError):
                raise
            raise summarize_instantiation_error(error) from error
        if isinstance(self.datamodule, LightningDataModule):
            report_setup_failures(self.datamodule)

    def merge_checkpoint_hyperparameters(self) -> None:
        """LightningCLI merges the ``--ckpt_path`` checkpoint's hyper-parameters into the
        config. Two changes: the file is read through :func:`load_checkpoint_file`, so a
        truncated or pickled checkpoint is a one-line :class:`CheckpointLoadError` (Lightning's
        bare ``torch.load`` gave a traceback); and hyper-parameters that do not fit the
        configured model (a checkpoint saved outside the CLI, or by another task) are not
        merged, with a warning: the weights are then checked when fit restores them, and
        :class:`ArchitectureMismatchError` names the tensors that differ (Lightning exited
        with the parser's dump of the whole namespace)."""
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if not ckpt_path or not Path(ckpt_path).is_file():
            return
        hparams = dict(
            load_checkpoint_file(ckpt_path, map_location="cpu", weights_only=True).get("hyper_parameters", {})
        )
        hparams.pop("_instantiator", None)
        if not hparams:
            return
        if "_class_path" in hparams:
            hparams = {"class_path": hparams.pop("_class_path"), "dict_kwargs": hparams}
        exit_on_error, self.parser.exit_on_error = self.parser.exit_on_error, False
        try:
            self.config = self.parser.parse_object({subcommand: {"model": hparams}}, self.config)
        except jsonargparse.ArgumentError:
            rank_zero_warn(
                f"The hyper-parameters saved in {ckpt_path} do not fit the configured model; the model is built from "
                "the config alone."
            )
        finally:
            self.parser.exit_on_error = exit_on_error

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The trainer's own callbacks, then ``--checkpoint`` and ``--best``, then the other
        always-present ones. ``--trainer.enable_checkpointing=false`` leaves out the checkpoint
        callbacks instead of Lightning's MisconfigurationException about a ``ModelCheckpoint``."""
        config = self.config_init.get(str(self.subcommand), self.config_init)
        trainer = {**(config.get("trainer") or {}), **kwargs}
        own = trainer.get("callbacks") or []
        own = own if isinstance(own, list) else [own]
        checkpoints = (
            [config[key] for key in CHECKPOINT_KEYS] if trainer.get("enable_checkpointing") is not False else []
        )
        return super().instantiate_trainer(**{**kwargs, "callbacks": [*own, *checkpoints]})

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument(
            f"--{EXTENDS}",
            type=str | list[str] | None,
            default=None,
            help="Config(s) this config builds on (read first; see gan_lightning.config.compose).",
        )
        # as add_lightning_class_args, but not among the callbacks every run gets: instantiate_trainer adds them
        for key, callback in zip(CHECKPOINT_KEYS, CHECKPOINT_CALLBACKS, strict=True):
            parser.add_class_arguments(callback, key, fail_untyped=False, sub_configs=True)
        parser.set_defaults({"checkpoint.save_last": True, "checkpoint.filename": "step_{step:07d}"})
        parser.add_lightning_class_args(SampleGrid, "samples")
        parser.add_lightning_class_args(RunSummary, "summary")  # after samples: it reports the final grid


def with_extended_configs(args: Any) -> Any:
    """The arguments with each ``--config FILE`` preceded by the configs it ``extends``
    (:mod:`gan_lightning.config.compose`); ``None`` (read ``sys.argv``) when nothing extends."""
    given = list(args) if isinstance(args, list | tuple) else sys.argv[1:] if args is None else None
    if given is None:
        return args  # a dict or Namespace: no config files to expand
    expanded = expand_config_arguments(given)
    if args is None and expanded == given:
        return None
    if args is None:
        warnings.filterwarnings(
            "ignore", message=".*LightningCLI's args parameter is intended to run from within Python"
        )
    return expanded


def report_setup_failures(datamodule: LightningDataModule) -> None:
    """Any exception of ``datamodule.prepare_data``/``setup`` -- a missing folder, an unreadable
    file, a bad split -- becomes a one-line :class:`DataSetupError` naming the data module:
    whatever its class, the cause is the data the user pointed at."""
    name = type(datamodule).__name__
    for hook in ("prepare_data", "setup"):
        original = getattr(datamodule, hook)

        def reporting(*args: Any, _original: Any = original, _hook: str = hook, **kwargs: Any) -> Any:
            try:
                return _original(*args, **kwargs)
            except GanLightningError:
                raise
            except Exception as error:
                raise DataSetupError(f"{name}.{_hook} failed: {one_line(error)}") from error

        setattr(datamodule, hook, reporting)


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

    try:
        if argv and argv[0] in COMMANDS:
            run(argv)
            return
        GANLightningCLI(args=args)  # None: LightningCLI reads sys.argv itself (no "args and argv" warning)
        close_process_group()  # a DDP run's ranks leave together (only after success: a failed peer never arrives)
    except Exception as error:  # raised before, inside or after trainer.fit: Lightning re-raises it as is
        if not is_user_error(error) or os.environ.get("GAN_LIGHTNING_TRACEBACK"):  # a bug, or debugging
            raise
        exit_with(error)


def exit_with(error: BaseException) -> NoReturn:
    """Print ``error: <message>`` as one line on stderr and exit with status 1: the message
    says what to fix, a traceback would only point at our code (``GAN_LIGHTNING_TRACEBACK=1``
    shows it)."""
    sys.exit(f"error: {one_line(error)}")


if __name__ == "__main__":
    main()
