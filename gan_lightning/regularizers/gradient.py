"""Penalties on the discriminator's input gradient."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_lightning.regularizers.base import DiscriminatorBatch, Regularizer, input_gradient


def _per_sample_norm(gradient: Tensor) -> Tensor:
    return gradient.flatten(start_dim=1).norm(2, dim=1)


class GradientPenalty(Regularizer):
    """WGAN-GP (Gulrajani et al. 2017, Eq. 3): λ·E[(‖∇D(x̂)‖₂ - target)²] at
    x̂ = αx + (1-α)G(z), with one α ~ U[0,1] per *sample*, broadcast over its pixels,
    and the norm taken per sample over all non-batch dimensions. λ = 10 in the paper.
    """

    def __init__(self, weight: float = 10.0, target: float = 1.0, interval: int = 1) -> None:
        super().__init__(weight, interval)
        self.target = target

    def penalty(self, batch: DiscriminatorBatch) -> Tensor:
        real, fake = batch.real.detach().float(), batch.fake.detach().float()
        alpha_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        alpha = torch.rand(alpha_shape, device=real.device)
        interpolates = alpha * real + (1.0 - alpha) * fake
        norms = _per_sample_norm(input_gradient(batch.discriminator, interpolates))
        return (norms - self.target).pow(2).mean()


class R1Penalty(Regularizer):
    """R1 (Mescheder et al. 2018, Eq. 9): γ/2 · E_x[‖∇D(x)‖²] on *real* data only.

    ``weight`` is γ. StyleGAN2 uses ``interval=16`` (lazy regularization).
    """

    def __init__(self, weight: float = 10.0, interval: int = 1) -> None:
        super().__init__(weight, interval)

    def _samples(self, batch: DiscriminatorBatch) -> Tensor:
        return batch.real

    def penalty(self, batch: DiscriminatorBatch) -> Tensor:
        gradient = input_gradient(batch.discriminator, self._samples(batch))
        return 0.5 * _per_sample_norm(gradient).pow(2).mean()


class R2Penalty(R1Penalty):
    """R2 (Mescheder et al. 2018, Eq. 10): the same penalty on generated data."""

    def _samples(self, batch: DiscriminatorBatch) -> Tensor:
        return batch.fake
