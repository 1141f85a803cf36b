"""Weights & Biases that never prompts and never hangs.

Online only when an API key is configured *and* the server answers within a few seconds;
otherwise offline, with one line saying so and how to sync. ``WANDB_MODE`` set by the user
always wins (``disabled`` writes nothing at all).
"""

from __future__ import annotations

import http.client
import netrc
import os
from typing import Any
from urllib.parse import urlparse

from lightning.pytorch.loggers import WandbLogger as _LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_info

from gan_lightning.seams import wandb_init_arguments

_DEFAULT_BASE_URL = "https://api.wandb.ai"


def _api_key_configured(host: str) -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def _answers_http(url: str, timeout: float) -> bool:
    """Whether the server at ``url`` sends back an HTTP response (any status) in time.

    A bare TCP connect is not enough: sandboxes and captive firewalls accept connections
    to any address and never answer, which would leave ``wandb.init`` waiting.
    """
    parsed = urlparse(url)
    connection_class = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parsed.hostname or "", parsed.port, timeout=timeout)
    try:
        connection.request("HEAD", "/")
        connection.getresponse()
        return True
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def resolve_wandb_mode(timeout: float = 3.0) -> tuple[str, str | None]:
    """``(mode, reason)`` where mode is ``online``, ``offline`` or ``disabled`` and reason
    explains a fallback to offline (``None`` when nothing was decided for the user)."""
    user_mode = os.environ.get("WANDB_MODE", "").strip().lower()
    if user_mode in ("offline", "dryrun"):
        return "offline", None
    if user_mode == "disabled":
        return "disabled", None
    if user_mode == "online":
        return "online", None
    url = urlparse(os.environ.get("WANDB_BASE_URL", _DEFAULT_BASE_URL))
    host = url.hostname or "api.wandb.ai"
    if not _api_key_configured(host):
        return "offline", "no API key configured (run `wandb login` or set WANDB_API_KEY to log online)"
    if not _answers_http(url.geturl(), timeout):
        return "offline", f"{host} is not reachable"
    return "online", None


class WandbLogger(_LightningWandbLogger):
    """Lightning's ``WandbLogger`` with ``offline=None`` meaning "decide for me".

    ``offline=None`` (the default here) resolves the mode with :func:`resolve_wandb_mode`;
    ``True``/``False`` force it. Offline runs land in ``<save_dir>/wandb/offline-run-*``;
    upload them later with ``wandb sync <that folder>``.
    """

    def __init__(self, *args: Any, offline: bool | None = None, **kwargs: Any) -> None:
        mode = None
        if offline is None:
            mode, reason = resolve_wandb_mode()
            offline = mode == "offline"
            if reason:
                rank_zero_info(f"W&B: logging offline ({reason}); sync later with `wandb sync <run folder>`.")
        if mode == "disabled":
            kwargs.setdefault("mode", "disabled")
        kwargs.setdefault("settings", None)
        if kwargs["settings"] is None:
            kwargs.pop("settings")
        super().__init__(*args, offline=offline, **kwargs)
        init_arguments = wandb_init_arguments(self)
        if init_arguments.get("anonymous") is None:  # wandb warns about the key even when unset
            init_arguments.pop("anonymous", None)
