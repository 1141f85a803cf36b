"""The small contract between networks and the training module.

Generators expose ``latent_dim: int`` and ``forward(z, labels=None)``; discriminators
expose ``forward(x, labels=None) -> Tensor`` of shape ``(B,)``. Both may expose
``num_classes: int`` (0 = unconditional); labels are passed only to networks that set it.
"""

from __future__ import annotations

from torch import Tensor, nn


def is_conditional(network: nn.Module) -> bool:
    return getattr(network, "num_classes", 0) > 0


def conditional_call(network: nn.Module, inputs: Tensor, labels: Tensor | None) -> Tensor:
    """Call ``network`` with labels only if it is conditional, so plain ``nn.Module``s work."""
    if is_conditional(network):
        if labels is None:
            raise ValueError(
                f"{type(network).__name__} is conditional (num_classes={network.num_classes}) "
                "but the batch carries no labels: use a datamodule that yields (images, labels)."
            )
        return network(inputs, labels)
    return network(inputs)
