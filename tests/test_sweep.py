"""configs/sweep.yaml, offline: parse it, build the command lines `wandb agent` would run
(with wandb's own helpers) at a few parameter points, and run them through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from wandb.sdk.launch.sweeps import utils as sweep_utils

from gan_lightning.cli import GANLightningCLI
from tests.conftest import REPO_ROOT

SWEEP = yaml.safe_load((REPO_ROOT / "configs" / "sweep.yaml").read_text())


def parameter_points() -> list[dict[str, Any]]:
    """The lowest and the highest value of every parameter: the corners most likely to break."""
    low, high = {}, {}
    for name, spec in SWEEP["parameters"].items():
        if "values" in spec:
            low[name], high[name] = spec["values"][0], spec["values"][-1]
        else:
            low[name], high[name] = spec["min"], spec["max"]
    return [low, high]


def agent_command(point: dict[str, Any]) -> list[str]:
    """What `wandb agent` executes for one run (wandb_agent.Agent._command_run, non-function mode)."""
    command = sweep_utils.create_sweep_command(list(SWEEP["command"]))
    macros = sweep_utils.create_sweep_command_args({"args": {k: {"value": v} for k, v in point.items()}})
    macros.update({"interpreter": [sys.executable], "program": [SWEEP["program"]], "env": []})
    expanded: list[str] = []
    for chunk in map(str, command):
        if chunk.startswith("${") and chunk.endswith("}"):
            expanded += macros[chunk[2:-1]]
        else:
            expanded.append(chunk)
    return expanded


def cli_arguments(command: list[str]) -> list[str]:
    assert command[:3] == [sys.executable, "-m", "gan_lightning"], command
    return command[3:]


def test_sweep_config_is_well_formed():
    assert SWEEP["method"] in ("grid", "random", "bayes")
    assert SWEEP["metric"]["goal"] in ("minimize", "maximize")
    assert (REPO_ROOT / SWEEP["program"]).is_file()
    assert "${args}" in SWEEP["command"]  # `--key=value` flags, which jsonargparse reads
    for name, spec in SWEEP["parameters"].items():
        assert "values" in spec or {"distribution", "min", "max"} <= set(spec), name
        if "min" in spec:
            assert spec["min"] < spec["max"], name


@pytest.mark.parametrize("point", parameter_points(), ids=["low", "high"])
def test_each_swept_value_reaches_the_model(point, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)  # the agent runs from the repository root
    monkeypatch.setattr("sys.argv", ["lightning"])
    args = cli_arguments(agent_command(point))
    assert args[0] == "fit"
    cli = GANLightningCLI(args=[*args[1:], "--trainer.logger=false"], run=False)
    model, data = cli.model, cli.datamodule
    assert model.metrics is not None, f"{SWEEP['metric']['name']} is never logged: the swept config computes no metrics"
    init = cli.config["model"]["init_args"]
    for name, value in point.items():
        node: Any = cli.config
        for key in name.split("."):
            node = node[key]
        assert node == value, name
    assert model.n_critic == point["model.init_args.n_critic"]
    assert model.ema_kimg == point["model.init_args.optimization.ema_kimg"]
    assert data.batch_size == point["data.init_args.batch_size"]
    assert (
        init["optimization"]["generator"]["optimizer"]["init_args"]["lr"]
        == point["model.init_args.optimization.generator.optimizer.init_args.lr"]
    )
    configured = model.configure_optimizers()  # ([optimizers], [schedulers]) when the config decays the LR
    optimizer_g, optimizer_d = configured[0] if isinstance(configured[0], list) else configured
    assert optimizer_g.param_groups[0]["lr"] == point["model.init_args.optimization.generator.optimizer.init_args.lr"]
    assert (
        optimizer_d.param_groups[0]["lr"] == point["model.init_args.optimization.discriminator.optimizer.init_args.lr"]
    )


@pytest.mark.slow
def test_agent_command_trains_one_step(tmp_path: Path):
    """The exact command line of one sweep run, as a subprocess, shrunk to one tiny step."""
    point = parameter_points()[0]
    tiny = [
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={tmp_path}",
        f"--trainer.logger.init_args.save_dir={tmp_path}",
        "--data=gan_lightning.data.Digits8x8DataModule",
        "--data.init_args.image_size=8",
        "--data.init_args.batch_size=16",
    ]
    command = agent_command({**point, "model.init_args.generator.init_args.base_width": 4})
    command = command + tiny + ["--model.init_args.discriminator.init_args.base_width=4"]
    env = {**os.environ, "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert list(tmp_path.glob("**/checkpoints/last.ckpt")), "the sweep run left no checkpoint"
    assert list(tmp_path.glob("wandb/offline-run-*")), "the sweep run logged nothing to W&B"
