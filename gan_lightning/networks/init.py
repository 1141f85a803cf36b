"""Weight initialisation that also works under spectral normalisation.

``torch.nn.utils.parametrizations.spectral_norm`` turns ``module.weight`` into a tensor
computed on every access (``original / σ``), so writing into ``module.weight`` changes a
temporary and leaves the network as it was. :func:`raw_weight` is the tensor to write into,
and :func:`initialise_weight` also refreshes the power-iteration estimate of σ, which was
made for the previous weight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gan_lightning.seams import refresh_spectral_norm

_POWER_ITERATIONS = 15  # what spectral_norm itself runs when it wraps a layer


def raw_weight(module: nn.Module) -> Tensor:
    """The stored weight of ``module``: ``parametrizations.weight.original`` when the weight
    is parametrized (spectral norm, weight norm), else ``weight``."""
    if parametrize.is_parametrized(module, "weight"):
        return module.parametrizations.weight.original
    return module.weight


@torch.no_grad()
def initialise_weight(module: nn.Module, init: Callable[[Tensor], Any]) -> None:
    """Apply ``init`` (e.g. ``nn.init.normal_``) to the stored weight, then re-estimate the
    spectral norm's singular vectors for it, as wrapping a fresh layer would."""
    weight = raw_weight(module)
    init(weight)
    if not parametrize.is_parametrized(module, "weight"):
        return
    for parametrization in module.parametrizations.weight:
        refresh_spectral_norm(parametrization, weight, _POWER_ITERATIONS)


def dcgan_init(module: nn.Module) -> None:
    """Radford et al. 2016, Sec. 4: conv/linear weights ~ N(0, 0.02), norm scales ~
    N(1, 0.02), biases 0. Apply with ``network.apply(dcgan_init)``; spectrally normalised
    layers get the init on their stored weight (see :func:`initialise_weight`)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        initialise_weight(module, lambda weight: nn.init.normal_(weight, 0.0, 0.02))
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d, nn.LayerNorm)):
        if module.weight is not None:
            nn.init.normal_(module.weight, 1.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def xavier_init(module: nn.Module, gain: float = 1.0) -> nn.Module:
    """Glorot-uniform weight with ``gain``, zero bias (the SNGAN reference code's init,
    Miyato et al. 2018: gain √2 inside residual branches, 1 for shortcuts and the head).
    Returns ``module`` so layers can be built in one expression."""
    initialise_weight(module, lambda weight: nn.init.xavier_uniform_(weight, gain))
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
    return module
