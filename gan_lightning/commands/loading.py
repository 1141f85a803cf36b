"""Rebuild a trained module (and its data) from a checkpoint, for commands that do not train.

Model and data come from the run's resolved ``config.yaml``, which every CLI run writes
next to its ``checkpoints/`` folder (or one given with ``--config``): the checkpoint's
hyper-parameters leave out the networks (``GAN`` does not save modules as hparams) and the
data. Without a config, a module whose hyper-parameters hold all its init arguments still
loads through ``load_from_checkpoint``. Checkpoints are read with ``weights_only=True``: no
pickled code runs.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from lightning.pytorch import LightningDataModule, LightningModule

from gan_lightning.checkpoint import check_state_dict_fits, load_checkpoint_file
from gan_lightning.checkpoint.run_folder import find_run_config
from gan_lightning.commands.config_errors import summarize_instantiation_error
from gan_lightning.errors import CommandLineError, GanLightningError, RunConfigNotFoundError
from gan_lightning.sampling import check_threshold
from gan_lightning.tasks.base import AdversarialTask


def read_config(path: Path) -> dict[str, Any]:
    """A YAML config as plain data, ``${...}`` interpolations resolved."""
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    if not isinstance(config, dict):
        raise CommandLineError(f"{path} is not a YAML mapping with model/data sections.")
    return config


def instantiate(section: Any, base: type, what: str) -> Any:
    """Instantiate a ``{class_path, init_args}`` config section as jsonargparse (and so
    LightningCLI) would."""
    import jsonargparse

    if not isinstance(section, dict) or "class_path" not in section:
        raise CommandLineError(f"The config's `{what}` section must be a `class_path` mapping, got {section!r}.")
    parser = jsonargparse.ArgumentParser(exit_on_error=False)
    parser.add_subclass_arguments(base, what, fail_untyped=False)
    try:
        parsed = parser.parse_object({what: section})
        return parser.instantiate_classes(parsed)[what]
    except (ValueError, TypeError) as error:
        if isinstance(error, GanLightningError):
            raise
        raise summarize_instantiation_error(error) from error


def accepted(section: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The ``overrides`` that the section's class takes as init arguments (a task without a
    ``metrics`` argument simply does not get ``metrics=None``)."""
    import importlib
    import inspect

    module_name, _, class_name = str(section.get("class_path", "")).rpartition(".")
    try:
        parameters = inspect.signature(getattr(importlib.import_module(module_name), class_name)).parameters
    except (ImportError, AttributeError, ValueError):
        return overrides
    return {key: value for key, value in overrides.items() if key in parameters}


def load_checkpoint_dict(checkpoint: Path) -> dict[str, Any]:
    """The checkpoint's contents, with the clear errors of :func:`load_checkpoint_file`
    (missing, truncated, or holding pickled code)."""
    return load_checkpoint_file(checkpoint, map_location="cpu", weights_only=True)


def load_module(
    checkpoint: str | Path, config: str | Path | None = None, **overrides: Any
) -> tuple[LightningModule, Path | None]:
    """The trained module in eval mode, and the config file used (if any).

    ``overrides`` replace init arguments (e.g. ``metrics=None`` so a checkpoint trained with
    Inception metrics loads on a machine without the Inception weights).
    """
    checkpoint = Path(checkpoint)
    state = load_checkpoint_dict(checkpoint)
    config_path = Path(config) if config is not None else find_run_config(checkpoint)
    if config_path is not None:
        section = dict(read_config(config_path)["model"])
        section["init_args"] = upgrade_init_args(section.get("init_args", {}))
        section["init_args"] = {**section.get("init_args", {}), **accepted(section, overrides)}
        module = instantiate(section, LightningModule, "model")
        check_state_dict_fits(module, state, source=f"Checkpoint {checkpoint}")
        module.load_state_dict(state["state_dict"])
        return checked_task(module, checkpoint).eval(), config_path
    try:  # a module whose hyper-parameters hold all its init arguments
        module = LightningModule.load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True, **overrides)
    except Exception as error:
        raise RunConfigNotFoundError(
            f"Cannot rebuild the model of {checkpoint}: no config.yaml was found next to it and its "
            f"hyper-parameters do not describe the whole model ({type(error).__name__}: {error}). "
            "Pass --config <the run's config.yaml>."
        ) from error
    return checked_task(module, checkpoint).eval(), None


def checked_task(module: LightningModule, checkpoint: Path) -> AdversarialTask:
    """The commands call a task's declared capabilities: anything else is a one-line error."""
    if not isinstance(module, AdversarialTask):
        raise CommandLineError(
            f"{checkpoint} holds a {type(module).__name__}, not a gan_lightning task (GAN, Pix2Pix, CycleGAN, ...): "
            "the commands sample and translate through the task interface of gan_lightning.tasks.AdversarialTask."
        )
    return module


#: Init arguments of runs made before ``optimization`` held them (run config.yaml files).
FLAT_OPTIMIZATION = {
    "generator_optimizer": ("generator", "optimizer"),
    "discriminator_optimizer": ("discriminator", "optimizer"),
    "generator_scheduler": ("generator", "scheduler"),
    "discriminator_scheduler": ("discriminator", "scheduler"),
    "generator_clip_norm": ("generator", "clip_norm"),
    "discriminator_clip_norm": ("discriminator", "clip_norm"),
    "ema_kimg": (None, "ema_kimg"),
    "ema_rampup": (None, "ema_rampup"),
}
RENAMED = {"num_fixed_samples": "num_fixed", "num_fixed_pairs": "num_fixed", "num_fixed_captions": "num_fixed"}


def upgrade_init_args(init_args: dict[str, Any]) -> dict[str, Any]:
    """A saved run's model arguments in today's names, so its checkpoints keep loading:
    the per-role keys move into ``optimization``, the ``num_fixed_*`` names become ``num_fixed``."""
    upgraded = {RENAMED.get(key, key): value for key, value in init_args.items() if key not in FLAT_OPTIMIZATION}
    moved = {key: value for key, value in init_args.items() if key in FLAT_OPTIMIZATION}
    if moved:
        optimization = dict(upgraded.get("optimization") or {})
        for key, value in moved.items():
            role, name = FLAT_OPTIMIZATION[key]
            if role is None:
                optimization[name] = value
            else:
                optimization[role] = {**optimization.get(role, {}), name: value}
        upgraded["optimization"] = optimization
    return upgraded


def load_datamodule(config_path: Path | None, checkpoint: Path) -> LightningDataModule:
    """The run's datamodule, set up, from its config."""
    if config_path is None:
        raise RunConfigNotFoundError(
            f"No config.yaml found next to {checkpoint}: pass --config <the run's config.yaml> (or any config "
            "with a `data` section) so the real data for the reference and the floor can be loaded."
        )
    config = read_config(config_path)
    if "data" not in config:
        raise CommandLineError(f"{config_path} has no `data` section.")
    datamodule = instantiate(config["data"], LightningDataModule, "data")
    datamodule.setup("validate")
    return datamodule


def truncation_option(module: Any, threshold: float | None) -> dict[str, float]:
    """``{"truncation": threshold}`` for a module whose ``sample`` takes it, ``{}`` without one;
    a threshold for a task that cannot truncate its noise, or a bad one, is a one-line error."""
    if threshold is None:
        return {}
    if "truncation" not in inspect.signature(module.sample).parameters:
        raise CommandLineError(
            f"--truncation: {type(module).__name__} does not draw truncated noise (the GAN task does); drop the flag."
        )
    try:
        check_threshold(threshold)
    except ValueError as error:
        raise CommandLineError(f"--truncation: {error}") from error
    return {"truncation": threshold}
