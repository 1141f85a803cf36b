"""Normalisation layers as the references define them."""

from __future__ import annotations

import torch

from gan_lightning.networks.layers import normalization_layer


def test_instance_norm_has_no_parameters_nor_running_statistics() -> None:
    """The reference's InstanceNorm2d(affine=False, track_running_stats=False): every map is
    normalised to zero mean and unit variance alone, in train and eval mode alike."""
    norm = normalization_layer("instance", 4)
    assert list(norm.parameters()) == [] and list(norm.buffers()) == []
    x = torch.randn(2, 4, 5, 5) * 3 + 2
    for mode in (True, False):
        out = norm.train(mode)(x)
        torch.testing.assert_close(out.mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.var(dim=(2, 3), unbiased=False), torch.ones(2, 4), atol=1e-3, rtol=0)
