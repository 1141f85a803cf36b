"""Class conditioning: conditional batch norm in G and the projection discriminator head.

Conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018, Sec. 4) lets the class
set each feature's scale and shift. The projection discriminator (Miyato & Koyama 2018,
Eq. 3) scores ``ψ(φ(x)) + ⟨embed(y), φ(x)⟩``, the form implied by a log-linear
conditional model, which works far better than concatenating labels to D's input.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine; per-class scale (init 1) and shift (init 0)."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"ConditionalBatchNorm2d needs num_classes >= 1, got {num_classes}.")
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.scale = nn.Embedding(num_classes, channels)
        self.shift = nn.Embedding(num_classes, channels)
        nn.init.ones_(self.scale.weight)
        nn.init.zeros_(self.shift.weight)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        scale = self.scale(labels).unsqueeze(-1).unsqueeze(-1)
        shift = self.shift(labels).unsqueeze(-1).unsqueeze(-1)
        return self.norm(x) * scale + shift


class ProjectionHead(nn.Module):
    """Final score from pooled features φ(x) (B, F): ``linear(φ) + ⟨embed(y), φ⟩``.

    With ``num_classes=0`` it is a plain linear layer (an unconditional D).
    """

    def __init__(self, features: int, num_classes: int = 0, spectral: bool = True) -> None:
        super().__init__()
        wrap = spectral_norm if spectral else (lambda layer: layer)
        self.linear = wrap(nn.Linear(features, 1))
        self.embedding: nn.Module | None = None
        if num_classes > 0:
            embedding = nn.Embedding(num_classes, features)
            nn.init.xavier_uniform_(embedding.weight)
            self.embedding = wrap(embedding)

    def forward(self, features: Tensor, labels: Tensor | None = None) -> Tensor:
        score = self.linear(features).flatten()
        if self.embedding is None:
            return score
        if labels is None:
            raise ValueError("This projection discriminator is conditional: pass the class labels.")
        return score + (self.embedding(labels) * features).sum(dim=1)


def auxiliary_logits(classifier: nn.Module | None, features: Tensor) -> Tensor:
    """Class logits (B, aux_classes) of a discriminator's auxiliary classifier (AC-GAN) on its
    pooled ``features``; a discriminator built without one says how to add it."""
    if classifier is None:
        raise ValueError("This discriminator has no auxiliary classifier: set aux_classes to the number of classes.")
    return classifier(features)


class LabelConcatGenerator(nn.Module):
    """Makes any unconditional generator class-conditional (Mirza & Osindero 2014, cGAN):
    the input becomes ``[z, embed(y)]``. The wrapped generator's ``latent_dim`` must be
    ``latent_dim + embedding_dim``."""

    def __init__(self, generator: nn.Module, num_classes: int, embedding_dim: int = 16) -> None:
        super().__init__()
        inner = getattr(generator, "latent_dim", None)
        if inner is None or inner <= embedding_dim:
            raise ValueError(
                f"The wrapped generator's latent_dim ({inner}) must exceed embedding_dim ({embedding_dim}): "
                "it receives z concatenated with the label embedding."
            )
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}.")
        self.generator = generator
        self.num_classes = num_classes
        self.latent_dim = inner - embedding_dim
        self.embedding = nn.Embedding(num_classes, embedding_dim)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return self.generator(torch.cat([z, self.embedding(labels)], dim=1))
