"""Configs that hold only their differences: ``extends: dcgan.yaml`` names a parent config.

A model config that is another model plus a change says so, instead of copying it::

    # configs/lsgan.yaml -- LSGAN is DCGAN with the least-squares loss
    extends: dcgan.yaml
    model:
      init_args:
        objective:
          class_path: gan_lightning.objectives.LeastSquaresLoss

The CLI reads ``--config lsgan.yaml`` as ``--config dcgan.yaml --config lsgan.yaml``: the
parent (a path relative to the child, itself free to extend others) is parsed first and the
child's keys override it, with jsonargparse's own merge rules (a new ``class_path`` keeps only
the ``init_args`` the new class accepts). ``--print_config`` and the run's saved
``config.yaml`` show the whole model; the saved file extends nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from gan_lightning.errors import GanLightningError

EXTENDS = "extends"


class ConfigCompositionError(GanLightningError, ValueError):
    """An ``extends:`` chain that cannot be followed (a missing parent, a cycle)."""


def parents_of(path: Path) -> list[Path]:
    """The configs ``path`` extends, resolved relative to it (none for a plain config)."""
    if not path.is_file() or path.suffix not in (".yaml", ".yml"):
        return []
    try:
        content = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return []  # jsonargparse reports the syntax error itself
    named = content.get(EXTENDS) if isinstance(content, dict) else None
    if not named:
        return []
    return [path.parent / str(name) for name in ([named] if isinstance(named, str) else named)]


def config_chain(path: Path, seen: tuple[Path, ...] = ()) -> list[Path]:
    """``path`` preceded by everything it extends, ancestors first."""
    resolved = path.resolve()
    if resolved in seen:
        chain = " -> ".join(p.name for p in (*seen, resolved))
        raise ConfigCompositionError(f"Config {path} extends itself ({chain}): break the cycle.")
    chain: list[Path] = []
    for parent in parents_of(path):
        if not parent.is_file():
            raise ConfigCompositionError(f"{path} extends {parent}, which does not exist.")
        chain += config_chain(parent, (*seen, resolved))
    return [*chain, path]


def expand_config_arguments(argv: list[str]) -> list[str]:
    """``argv`` with every ``--config FILE`` preceded by the configs ``FILE`` extends."""
    expanded: list[str] = []
    index = 0
    while index < len(argv):
        argument = argv[index]
        if argument == "--config" and index + 1 < len(argv):
            for path in config_chain(Path(argv[index + 1])):
                expanded += ["--config", str(path)]
            index += 2
            continue
        if argument.startswith("--config="):
            expanded += [f"--config={path}" for path in config_chain(Path(argument.split("=", 1)[1]))]
        else:
            expanded.append(argument)
        index += 1
    return expanded
