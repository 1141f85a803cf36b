"""Configuration mistakes explained in one paragraph, with a "did you mean" suggestion.

jsonargparse reports an unknown key correctly but buries it under the Union subtypes it
tried; :func:`explain_config_error` puts a plain sentence first and keeps the details.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import os
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from lightning.pytorch.cli import LightningArgumentParser

from gan_lightning.errors import GanLightningError

_CLASS_OPTION = re.compile(r"Problem with given class_path '([\w.]+)':\s*Option '([\w.]+)' is not accepted")
_UNRECOGNIZED = re.compile(r"unrecognized arguments: (--[\w.\-]+)")
_NOT_ACCEPTED = re.compile(r"does not accept option '([\w.\-]+)'")
# PyYAML's scanner/parser message as jsonargparse passes it on: context, then the problem and its mark
_YAML_SYNTAX = re.compile(r"Problems parsing config:.*\n([^\n]+)\n\s*in \"[^\"]*\", line (\d+), column (\d+)\s*$", re.S)
_WRONG_TYPE = re.compile(
    r"Problem with given class_path '([\w.]+)':\s*Parser key \"([\w.]+)\":\s*Expected an? (.+?)\. Got value: ([^\n]*?)\s*(?:\n|- Expected|$)"
)
_LITERAL = re.compile(r"typing\.Literal\[(.*)\]")
_MISSING_FILE = re.compile(r"Parser key \"config\": File does not exist: '([^']+)'")
DETAILS = "\n\nDetails: "


def _suggestion(word: str, candidates: Iterable[str]) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def _readable_type(expected: str) -> str:
    """``<class 'int'>`` -> ``int``; anything else as jsonargparse wrote it."""
    found = re.fullmatch(r"<class '([\w.]+)'>", expected)
    if not found:
        return expected
    name = found.group(1)
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _parameters(class_path: str) -> list[str]:
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
        return [p for p in inspect.signature(cls).parameters if p not in ("args", "kwargs")]
    except (ImportError, AttributeError, TypeError, ValueError):
        return []


def _options(parser: Any) -> list[str]:
    options = [option.lstrip("-") for option in getattr(parser, "_option_string_actions", {})]
    subcommands = getattr(parser, "_subcommands_action", None)
    for subparser in getattr(subcommands, "_name_parser_map", {}).values():
        options += _options(subparser)
    return options


def explain_config_error(message: str, parser: Any = None) -> str:
    """``message`` with a one-paragraph explanation first when it is about a value of the
    wrong type or outside its choices, a missing or malformed config file, or an unknown key."""
    found = _WRONG_TYPE.search(message)
    if found:
        class_path, key, expected, value = found.groups()
        choices = _LITERAL.fullmatch(expected)
        wanted = f"one of {choices.group(1)}" if choices else _readable_type(expected)
        summary = (
            f"Invalid value {value!r} for '{key}' of {class_path}: expected {wanted}. Fix it in your config "
            f"file or command line."
        )
        return f"{summary}{DETAILS}{message}"
    found = _MISSING_FILE.search(message)
    if found:
        summary = (
            f"Config file not found: {found.group(1)}. Check the path given to --config (a relative path is "
            f"read from the folder the command runs in)."
        )
        return f"{summary}{DETAILS}{message}"
    found = _YAML_SYNTAX.search(message)
    if found:
        problem, line, column = found.groups()
        summary = (
            f"A config file is not valid YAML: {problem} at line {line}, column {column}. Fix that file "
            f"(an unclosed bracket or quote, or a tab in the indentation, are the usual causes)."
        )
        return f"{summary}{DETAILS}{message}"
    found = _CLASS_OPTION.search(message)
    if found:
        class_path, option = found.groups()
        summary = (
            f"Unknown option '{option}' for {class_path}{_suggestion(option, _parameters(class_path))}. "
            f"Fix the key in your config file or command line; `--print_config` shows the full resolved config "
            f"with every accepted key."
        )
        return f"{summary}{DETAILS}{message}"
    found = _UNRECOGNIZED.search(message) or _NOT_ACCEPTED.search(message)
    if found:
        option = found.group(1).lstrip("-").split("=")[0]
        summary = (
            f"Unknown option '{option}'{_suggestion(option, _options(parser))}. Fix the key in your config file "
            f"or command line; `--help` lists every accepted key."
        )
        return f"{summary}{DETAILS}{message}"
    return message


class ExplainingArgumentParser(LightningArgumentParser):
    """LightningCLI's parser with :func:`explain_config_error` applied to its errors, printed
    as one ``error:`` line: jsonargparse put the whole usage (~80 lines of options) and a
    multi-line message before it, so a typo scrolled off the screen. The details (the Union
    subtypes jsonargparse tried) follow only with ``GAN_LIGHTNING_TRACEBACK=1``."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        explained = explain_config_error(message, self)
        if not self.exit_on_error or os.environ.get("JSONARGPARSE_DEBUG"):  # caught by jsonargparse, or debugging
            super().error(explained, ex)
        summary, _, details = explained.partition(DETAILS)
        line = " ".join(summary.split())
        if not details:
            line += f" (`{self.prog.replace(' [options]', '')} --help` lists the accepted options)"
        sys.stderr.write(f"error: {line}\n")
        if details and os.environ.get("GAN_LIGHTNING_TRACEBACK"):
            sys.stderr.write(f"{DETAILS}{details}\n")
        self.exit(2)


class ConfigurationError(GanLightningError, ValueError):
    """A value in the configuration was refused by the class it configures."""


def summarize_instantiation_error(error: Exception) -> ConfigurationError:
    """The constructors' own messages, without jsonargparse's Union bookkeeping and the
    dump of the whole namespace (which can run to thousands of characters)."""
    reasons = [
        line.strip()[2:]
        for line in str(error).splitlines()
        if line.strip().startswith("- ") and "Expected a <class 'NoneType'>" not in line
    ]
    reason = " ".join(reasons) if reasons else str(error).splitlines()[0]
    return ConfigurationError(
        f"The configuration was refused: {reason} Fix that value in your config file or on the command line "
        "(`--print_config` shows the resolved config)."
    )
