"""Compiled training phases: the networks' forward passes through ``torch.compile``.

Each network is compiled *in place* (``nn.Module.compile``): it keeps its parameters,
buffers and ``state_dict`` keys (no ``_orig_mod.`` prefix), so a checkpoint is the same with
compile on or off, the optimizers hold the same ``nn.Parameter`` objects, and the weight
averages (copied from the eager network when the task is built) stay eager. Where a compiled
graph cannot go -- a gradient of a gradient (WGAN-GP, R1, R2, path length) and held-out
evaluation, which would only add graphs to compile -- the task runs the networks eagerly
(:func:`~gan_lightning.regularizers.eager_networks`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


def compile_backend(compile: bool | str) -> str | None:
    """The ``torch.compile`` backend a task's ``compile`` argument asks for: ``True`` is
    torch's default (``inductor``), a string names a backend (``aot_eager`` to debug without
    code generation), ``False`` none."""
    if compile is True:
        return "inductor"
    if compile is False or compile is None:
        return None
    backends = torch.compiler.list_backends(exclude_tags=())
    if not isinstance(compile, str) or compile not in backends:
        raise ValueError(
            f"compile must be true, false or the name of a torch.compile backend ({', '.join(backends)}), "
            f"got {compile!r}."
        )
    return compile


def compile_networks(modules: Iterable[nn.Module], backend: str) -> None:
    """Compile each module's forward in place; compilation itself happens at the first call
    (one graph per grad mode, ``requires_grad`` pattern and input shape it is called with)."""
    for module in modules:
        module.compile(backend=backend)
