"""The history of generated images that CycleGAN's discriminators train on.

Shrivastava et al. 2017 (Sec. 2.3) and Zhu et al. 2017 (Sec. 4): updating D with a buffer
of *past* generator outputs, not only the latest, reduces model oscillation — D keeps
rejecting what G produced a while ago, so G cannot cycle back to it.

It lives with the networks, as :class:`~gan_lightning.networks.pacgan.PackedDiscriminator`
does: a piece of what D sees, with no knowledge of Lightning, held by a task as a submodule.
Its content is in ``state_dict()`` (extra state), so checkpoints carry it and a resumed run
draws the same images as an uninterrupted one.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


class ImagePool(nn.Module):
    """Keeps up to ``size`` generated images; :meth:`query` mixes them into D's fake batch.

    While the pool fills, each new image is stored and returned as is. Once it is full, each
    new image is, with probability 1/2, swapped with a uniformly chosen stored one (the old one
    is returned, the new one stays), else returned as is. Random draws come from torch's
    global CPU generator, which the project's checkpoints restore; the pool itself never
    seeds. ``size=0`` passes images through.

    Under DDP every rank keeps its own pool (as in the reference code), but a checkpoint holds
    the state of the process that saved it: every rank resumes with that history. A task that
    needs per-rank exactness gathers ``get_extra_state()`` of all ranks when saving (as
    :class:`~gan_lightning.checkpoint.TrainingRandomState` does for RNG states) and gives each
    rank its own to ``set_extra_state``.

    Args:
        size: images kept (50 in CycleGAN).
    """

    def __init__(self, size: int = 50) -> None:
        super().__init__()
        if size < 0:
            raise ValueError(f"ImagePool size must be >= 0 (50 in CycleGAN, 0 disables it), got {size}.")
        self.size = size
        self.images: list[Tensor] = []

    @property
    def count(self) -> int:
        """Images stored now (no ``__len__``: an empty pool must not be falsy in ``if pool:``)."""
        return len(self.images)

    @torch.no_grad()
    def query(self, images: Tensor) -> Tensor:
        """D's fake batch for the new generator outputs ``images`` (B, ...): same shape,
        detached (old images have no graph to G anyway)."""
        images = images.detach()
        if self.size == 0:
            return images
        coins = torch.rand(len(images))  # one draw per image, whether used or not: a fixed
        slots = torch.randint(self.size, (len(images),))  # number of draws per call
        returned = []
        for image, coin, slot in zip(images, coins.tolist(), slots.tolist(), strict=True):
            if len(self.images) < self.size:
                self.images.append(image.clone())
                returned.append(image)
            elif coin < 0.5:
                old = self.images[slot].to(image.device, image.dtype)
                self.images[slot] = image.clone()
                returned.append(old)
            else:
                returned.append(image)
        return torch.stack(returned)

    def get_extra_state(self) -> dict[str, Any]:
        """The stored images (CPU copies) and their count, in types ``torch.load(weights_only=True)`` accepts."""
        stored = torch.stack(self.images).cpu() if self.images else torch.empty(0)
        return {"size": self.size, "images": stored}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        if state["size"] != self.size:
            raise ValueError(
                f"The checkpoint's ImagePool holds up to {state['size']} images but this one {self.size}: "
                "resume with the same pool size."
            )
        self.images = list(state["images"].unbind(0)) if state["images"].numel() else []

    def extra_repr(self) -> str:
        return f"size={self.size}"
