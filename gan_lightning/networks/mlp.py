"""Fully connected generator and discriminator for flat or 2D toy data."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn


def _mlp(sizes: Sequence[int], activation: nn.Module) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), activation]
    return layers


class MLPGenerator(nn.Module):
    """z → hidden ReLU layers → ``prod(data_shape)`` → reshape.

    ``output="tanh"`` for data scaled to [-1, 1] (images), ``"linear"`` for unbounded data
    such as the 2D Gaussian mixtures.
    """

    def __init__(
        self,
        data_shape: Sequence[int] = (1, 28, 28),
        latent_dim: int = 64,
        hidden_dims: Sequence[int] = (256, 256),
        output: Literal["tanh", "linear"] = "tanh",
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.data_shape = tuple(data_shape)
        out_features = math.prod(self.data_shape)
        layers = _mlp([latent_dim, *hidden_dims], nn.ReLU(inplace=True))
        layers.append(nn.Linear(hidden_dims[-1] if hidden_dims else latent_dim, out_features))
        if output == "tanh":
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.data_shape)


class MLPDiscriminator(nn.Module):
    """Flattened sample → hidden LeakyReLU(0.2) layers → one score."""

    def __init__(self, data_shape: Sequence[int] = (1, 28, 28), hidden_dims: Sequence[int] = (256, 256)) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        in_features = math.prod(self.data_shape)
        layers = _mlp([in_features, *hidden_dims], nn.LeakyReLU(0.2, inplace=True))
        layers.append(nn.Linear(hidden_dims[-1] if hidden_dims else in_features, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if tuple(x.shape[1:]) != self.data_shape:
            raise ValueError(
                f"{type(self).__name__} expects samples of shape {self.data_shape} but got "
                f"{tuple(x.shape[1:])}: set data_shape to the data's shape."
            )
        return self.net(x.flatten(start_dim=1)).flatten()
