"""Penalties on the generator (the ``G reg`` phase)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gan_lightning.regularizers.base import GeneratorBatch, GeneratorRegularizer, eager_networks


class PathLengthPenalty(GeneratorRegularizer):
    """Path length regularization (Karras et al. 2020, StyleGAN2 Sec. 3.2, Eq. 4):
    ``E_{w,y} (‖J_wᵀ y‖₂ − a)²`` with ``y`` Gaussian images scaled by ``1/√(H·W)`` and ``a``
    the running mean of the lengths (decay ``mean_decay``).

    Differentiates with respect to the intermediate latents ``w`` of a generator exposing
    ``styles(z)`` and ``synthesis(ws)`` (:class:`~gan_lightning.networks.StyleGAN2Generator`),
    otherwise with respect to ``z``. StyleGAN2 uses ``weight=2``, ``interval=4`` and half the
    batch (``batch_shrink=2``). The running mean is a buffer: it is in the checkpoint. As in
    stylegan2-ada (``training/loss.py``), the penalty uses the mean *updated with this batch*
    and differentiates through it: G also gets the small gradient (weight ``mean_decay``) of
    the batch's own share of the mean; only the stored buffer is detached.
    """

    def __init__(self, weight: float = 2.0, interval: int = 4, batch_shrink: int = 2, mean_decay: float = 0.01) -> None:
        super().__init__(weight, interval)
        if batch_shrink < 1:
            raise ValueError(f"PathLengthPenalty: batch_shrink must be >= 1, got {batch_shrink}.")
        if not 0.0 < mean_decay <= 1.0:
            raise ValueError(f"PathLengthPenalty: mean_decay must be in (0, 1], got {mean_decay}.")
        self.batch_shrink = batch_shrink
        self.mean_decay = mean_decay
        self.register_buffer("mean_length", torch.zeros(()))

    def penalty(self, batch: GeneratorBatch) -> Tensor:
        batch = batch.first(max(1, batch.latent.shape[0] // self.batch_shrink))  # latent and labels alike
        latent = batch.latent
        with torch.autocast(device_type=latent.device.type, enabled=False), eager_networks():  # double backward
            network = batch.generator
            if callable(getattr(network, "styles", None)) and callable(getattr(network, "synthesis", None)):
                inputs = network.styles(latent.float())
                images = network.synthesis(inputs).float()
            else:
                inputs = latent.detach().float().requires_grad_(True)
                images = batch.generate(inputs).float()
            noise = torch.randn_like(images) / math.sqrt(images[0, 0].numel())
            (gradient,) = torch.autograd.grad((images * noise).sum(), inputs, create_graph=True)
        squared = gradient.square().flatten(start_dim=1)
        if gradient.dim() == 3:  # (B, num_ws, w_dim): sum over w, mean over layers
            squared = gradient.square().sum(dim=2).mean(dim=1, keepdim=True)
        lengths = squared.sum(dim=1).sqrt()
        mean = self.mean_length.lerp(lengths.mean(), self.mean_decay)  # keeps the gradient through this batch's share
        self.mean_length.copy_(mean.detach())
        return (lengths - mean).square().mean()


class ModeSeekingPenalty(GeneratorRegularizer):
    """Mode seeking (Mao et al. 2019, MSGAN, Eq. 3): G is rewarded when different latents
    give different images *under the same condition*,
    ``ratio = mean|G(c, z₁) − G(c, z₂)| / mean|z₁ − z₂|``; the penalty is ``1 / (ratio + eps)``.

    Unconditional: the pairs are the first and second half of the phase's batch. Conditional
    (the batch carries labels): each sample ``G(c, z₁)`` is paired with ``G(c, z₂)`` for a
    fresh ``z₂`` and the *same* label, as the authors' code runs G twice on one input -- pairing
    samples of different classes would measure class differences, not diversity within a class.
    """

    def __init__(self, weight: float = 1.0, interval: int = 1, eps: float = 1e-5) -> None:
        super().__init__(weight, interval)
        self.eps = eps

    def penalty(self, batch: GeneratorBatch) -> Tensor:
        images = batch.images if batch.images is not None else batch.generate(batch.latent)
        if batch.labels is not None:
            other_latent = torch.randn_like(batch.latent)
            other = batch.generate(other_latent)  # the same labels, row by row
            return self.ratio_penalty(images, other, batch.latent, other_latent)
        half = images.shape[0] // 2
        if half < 1:
            raise ValueError("ModeSeekingPenalty needs a batch of at least 2 samples.")
        return self.ratio_penalty(
            images[:half], images[half : 2 * half], batch.latent[:half], batch.latent[half : 2 * half]
        )

    def ratio_penalty(self, images: Tensor, other_images: Tensor, latent: Tensor, other_latent: Tensor) -> Tensor:
        """``1 / (mean|G₁ − G₂| / mean|z₁ − z₂| + eps)`` of paired rows (Eq. 3)."""
        image_distance = (images - other_images).abs().mean()
        latent_distance = (latent - other_latent).abs().mean()
        return 1.0 / (image_distance.float() / latent_distance.float() + self.eps)
