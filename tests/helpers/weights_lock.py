"""Weight digests of trained models, compared against a recorded lock.

A refactor that must not change behaviour records each config's weights after a few
iterations *before* the change (``GAN_LIGHTNING_WRITE_LOCK=1 pytest ...`` writes the lock),
and the same tests compare them after it. Digests are kept per top-level submodule
(``generator``, ``discriminator``, ``generator_ema`` ...), so a renamed or missing one is named.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

WRITE = os.environ.get("GAN_LIGHTNING_WRITE_LOCK") == "1"


def weight_digests(model: nn.Module) -> dict[str, dict[str, Any]]:
    """sha256 and float sum of each top-level submodule's floating-point state."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name, tensor in model.state_dict().items():
        if torch.is_tensor(tensor) and tensor.is_floating_point() and "." in name:
            groups.setdefault(name.split(".", 1)[0], []).append((name, tensor))
    digests = {}
    for prefix, items in sorted(groups.items()):
        digest, total = hashlib.sha256(), 0.0
        for name, tensor in items:
            digest.update(name.split(".", 1)[1].encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            total += float(tensor.double().sum())
        digests[prefix] = {"sha256": digest.hexdigest(), "sum": total}
    return digests


def check_against_lock(lock_file: Path, key: str, model: nn.Module, renamed: dict[str, str] | None = None) -> None:
    """Assert ``model``'s weights equal the lock's entry ``key``: bit for bit on the machine kind
    that wrote it, to float32 precision elsewhere (vectorised exp/sin round differently by CPU)."""
    got = weight_digests(model)
    lock = json.loads(lock_file.read_text()) if lock_file.exists() else {}
    if WRITE:
        lock[key] = got
        lock_file.write_text(json.dumps(dict(sorted(lock.items())), indent=1) + "\n")
        return
    if key not in lock:
        pytest.fail(f"{key} has no entry in {lock_file.name}: record it with GAN_LIGHTNING_WRITE_LOCK=1")
    for prefix, expected in lock[key].items():
        name = (renamed or {}).get(prefix, prefix)
        assert name in got, f"{key}: the locked submodule {prefix!r} is gone (have {sorted(got)})"
        if got[name]["sha256"] == expected["sha256"]:
            continue
        assert got[name]["sum"] == pytest.approx(expected["sum"], rel=1e-6), f"{key}/{prefix}: weights drifted"
