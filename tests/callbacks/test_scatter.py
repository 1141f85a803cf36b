"""Scatter plots of 2D samples as RGB image tensors."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.callbacks.scatter import scatter_image
from gan_lightning.data.toy2d import ring_modes


def test_scatter_image_is_an_rgb_tensor_with_points_drawn():
    blank = scatter_image(torch.zeros(0, 2), ring_modes())
    drawn = scatter_image(torch.randn(500, 2), ring_modes())
    assert drawn.shape[0] == 3 and drawn.min() >= 0.0 and drawn.max() <= 1.0
    assert (drawn - blank).abs().sum() > 0
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        scatter_image(torch.zeros(5, 3))
