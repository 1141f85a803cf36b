"""The contract every regularizer fulfils."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn


@dataclass
class DiscriminatorBatch:
    """What a discriminator-phase regularizer may look at.

    ``discriminator`` maps a batch of samples to logits with labels and augmentation
    already bound, so a penalty on ∇ₓD(x) differentiates through the same function the
    loss saw. ``real``/``fake`` are detached from the generator.
    """

    discriminator: Callable[[Tensor], Tensor]
    real: Tensor
    fake: Tensor


class Scheduled:
    """What both kinds of regularizer share: a ``weight``, an ``interval`` (lazy
    regularization, Karras et al. 2020, StyleGAN2 Sec. 3.1: applied on every
    ``interval``-th update, scaled by ``interval`` so its expected strength is unchanged),
    the name it is logged under, and ``weighted(value)``."""

    weight: float
    interval: int

    def _set_schedule(self, weight: float, interval: int) -> None:
        if weight < 0:
            raise ValueError(f"{type(self).__name__}: weight must be >= 0, got {weight}.")
        if interval < 1:
            raise ValueError(f"{type(self).__name__}: interval must be >= 1, got {interval}.")
        self.weight = weight
        self.interval = interval

    @property
    def name(self) -> str:
        """Key under which the unweighted penalty is logged."""
        return type(self).__name__

    def is_due(self, step: int) -> bool:
        """Whether the penalty applies at this update of its network."""
        return step % self.interval == 0

    def weighted(self, value: Tensor) -> tuple[Tensor, Tensor]:
        """``(weighted term to add to the loss, unweighted penalty to log)``."""
        return value * (self.weight * self.interval), value.detach()


class Regularizer(Scheduled, ABC):
    """A penalty ``weight · penalty(batch)`` added to the discriminator loss.

    ``interval`` > 1 applies it lazily: a phase (and optimizer step) of its own every
    ``interval`` updates, and the task corrects D's optimizer for the extra steps
    (StyleGAN2 Appendix B).
    """

    def __init__(self, weight: float, interval: int = 1) -> None:
        self._set_schedule(weight, interval)

    @abstractmethod
    def penalty(self, batch: DiscriminatorBatch) -> Tensor:
        """The unweighted penalty (a scalar)."""

    def __call__(self, batch: DiscriminatorBatch) -> tuple[Tensor, Tensor]:
        """Returns ``(weighted term to add to the loss, unweighted penalty to log)``."""
        return self.weighted(self.penalty(batch))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight}, interval={self.interval})"


@dataclass
class GeneratorBatch:
    """What a generator-phase regularizer may look at.

    ``generator`` is the raw network in training mode (gradients flow into it); ``latent``
    and ``labels`` are the inputs of this phase. ``images`` are ``generator(latent, labels)``
    when the main generator phase already made them, ``None`` in a lazy phase of its own.
    ``generate`` runs the generator on other latents of the same rows (this batch's labels
    bound where conditional); ``generate_with`` takes the labels too (``None``: unconditional).
    """

    generator: nn.Module
    generate: Callable[[Tensor], Tensor]
    latent: Tensor
    labels: Tensor | None = None
    images: Tensor | None = None
    generate_with: Callable[[Tensor, Tensor | None], Tensor] | None = None

    def first(self, rows: int) -> GeneratorBatch:
        """The first ``rows`` samples, latent, labels and images cut together (StyleGAN2's
        ``batch_shrink``: stylegan2-ada slices ``gen_z`` and ``gen_c`` alike)."""
        if rows >= self.latent.shape[0]:
            return self
        labels = None if self.labels is None else self.labels[:rows]
        generate = self.generate
        if labels is not None:
            if self.generate_with is None:
                raise ValueError(
                    "GeneratorBatch.first: a conditional batch needs generate_with(latent, labels) to cut its labels."
                )
            generate_with = self.generate_with
            generate = lambda z: generate_with(z, labels)  # noqa: E731 -- bound to the cut labels
        images = None if self.images is None else self.images[:rows]
        return replace(self, generate=generate, latent=self.latent[:rows], labels=labels, images=images)


class GeneratorRegularizer(Scheduled, nn.Module):
    """A penalty ``weight · penalty(batch)`` added to the generator's loss (the ``G reg``
    phase of StyleGAN2's loss), with the same ``interval`` semantics as :class:`Regularizer`.

    It is an ``nn.Module``: a running statistic (path length's mean) is a buffer, so it is
    in the checkpoint and a resumed run is exact.
    """

    def __init__(self, weight: float, interval: int = 1) -> None:
        nn.Module.__init__(self)
        self._set_schedule(weight, interval)

    def penalty(self, batch: GeneratorBatch) -> Tensor:
        """The unweighted penalty (a scalar)."""
        raise NotImplementedError

    def forward(self, batch: GeneratorBatch) -> tuple[Tensor, Tensor]:
        """Returns ``(weighted term to add to the loss, unweighted penalty to log)``."""
        return self.weighted(self.penalty(batch))

    def extra_repr(self) -> str:
        return f"weight={self.weight}, interval={self.interval}"


@contextmanager
def eager_networks() -> Iterator[None]:
    """Networks compiled with ``torch.compile`` (``nn.Module.compile``) run their eager
    forward inside: a gradient of a gradient (WGAN-GP, R1, R2, path length) cannot go through
    a compiled graph ("torch.compile with aot_autograd does not currently support double
    backward", torch 2.14). Nothing changes for a network that is not compiled."""
    with torch.compiler.set_stance("force_eager"):
        yield


def input_gradient(discriminator: Callable[[Tensor], Tensor], inputs: Tensor) -> Tensor:
    """∇ₓ D(x) per sample, differentiable (``create_graph``) so it can be penalised.

    Runs in float32 with autocast off: ``torch.autograd.grad`` is not scaled by AMP's
    GradScaler and fp16 gradients of D can under/overflow (pytorch/pytorch#25081). A compiled
    D runs eagerly here (:func:`eager_networks`).
    """
    with torch.autocast(device_type=inputs.device.type, enabled=False), eager_networks():
        x = inputs.detach().float().requires_grad_(True)
        scores = discriminator(x).float()
        (gradient,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return gradient
