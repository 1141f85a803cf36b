"""DCGAN's initialisation (Radford et al. 2016, Sec. 4) reaches the stored weights of spectrally
normalised layers and refreshes their norm estimate; plain layers are initialised as before."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_lightning.networks import DCGANDiscriminator, dcgan_init
from tests.networks.conftest import largest_singular_value, raw_weight


def weighted_layers(network: nn.Module) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]


def test_dcgan_init_reaches_the_stored_weights_of_spectrally_normalised_layers():
    torch.manual_seed(0)
    critic = DCGANDiscriminator(image_size=32, channels=3, base_width=8, norm="spectral")
    layers = weighted_layers(critic)
    assert layers and all(parametrize.is_parametrized(layer, "weight") for layer in layers)
    stored = torch.cat([raw_weight(layer).flatten() for layer in layers])
    assert stored.std().item() == pytest.approx(0.02, rel=0.05)  # PyTorch's default init: ≈ 0.05 here
    for layer in layers:
        if raw_weight(layer).numel() >= 1000:
            assert raw_weight(layer).std().item() == pytest.approx(0.02, rel=0.15)


def test_spectral_norm_estimate_is_refreshed_after_the_init():
    """σ is estimated by power iteration on the weight it wrapped; after re-initialising, the
    normalised weight must still have spectral norm ≈ 1, not the old weight's estimate."""
    torch.manual_seed(0)
    layer = nn.utils.parametrizations.spectral_norm(nn.Conv2d(8, 16, 3))
    dcgan_init(layer)
    layer.eval()  # no power iteration on access: the estimate made by the init is what counts
    assert largest_singular_value(layer.weight.detach()) == pytest.approx(1.0, rel=0.02)


def test_dcgan_init_on_plain_layers_is_unchanged():
    torch.manual_seed(0)
    layer, norm = nn.Linear(400, 300), nn.BatchNorm2d(500)
    layer.apply(dcgan_init)
    norm.apply(dcgan_init)
    assert layer.weight.std().item() == pytest.approx(0.02, rel=0.05) and not layer.bias.any()
    assert norm.weight.mean().item() == pytest.approx(1.0, abs=0.01) and not norm.bias.any()
