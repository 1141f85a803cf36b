"""A clear error when a checkpoint was written by a different architecture."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from gan_lightning.errors import GanLightningError


class ArchitectureMismatchError(GanLightningError, ValueError):
    """The checkpoint's tensors do not fit the model it is loaded into."""


def _listed(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def check_state_dict_fits(
    model: nn.Module, checkpoint: Mapping[str, Any], check_names: bool = True, source: str = "The checkpoint"
) -> None:
    """Raise :class:`ArchitectureMismatchError` naming the differing tensors when
    ``checkpoint["state_dict"]`` does not match ``model``'s shapes (and, with
    ``check_names``, its tensor names: off for a deliberate ``strict=False`` load)."""
    saved: Mapping[str, Tensor] = checkpoint.get("state_dict", {})
    expected = model.state_dict()
    missing = sorted(set(expected) - set(saved)) if check_names else []
    unexpected = sorted(set(saved) - set(expected)) if check_names else []
    reshaped = [
        f"{name} {tuple(saved[name].shape)} in checkpoint vs {tuple(expected[name].shape)} in model"
        for name in sorted(set(saved) & set(expected))
        if isinstance(saved[name], Tensor) and saved[name].shape != expected[name].shape
    ]
    if not (missing or unexpected or reshaped):
        return
    problems = []
    if reshaped:
        problems.append(f"{len(reshaped)} tensor(s) differ in shape ({_listed(reshaped, 3)})")
    if missing:
        problems.append(f"{len(missing)} tensor(s) of the model are not in it ({_listed(missing)})")
    if unexpected:
        problems.append(f"{len(unexpected)} tensor(s) in it are not in the model ({_listed(unexpected)})")
    raise ArchitectureMismatchError(
        f"{source} was written by a different architecture than the one configured: {'; '.join(problems)}. "
        "Load it with the config it was trained with (saved as config.yaml in its run folder), or change "
        "the network settings (latent_dim, image_size, base_width, channels, ...) to match it."
    )
