"""The convolutional classifier-discriminator of the semi-supervised GAN: shapes, the
features/logits split, noise and dropout only in training, the data-dependent init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_lightning.networks import NoisyConvClassifier
from gan_lightning.tasks import SemiSupervisedGAN


def weight_normed(network: nn.Module) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def test_digits_go_28_14_7_5_to_pooled_features_and_class_logits():
    network = NoisyConvClassifier(widths=(8, 16, 32), classes=10).eval()
    x = torch.rand(3, 1, 28, 28) * 2 - 1
    sizes = []
    h = x
    for layer in network.hidden:
        h = layer(h)
        if isinstance(layer, nn.Conv2d):
            sizes.append((layer.out_channels, h.shape[-1]))
    assert sizes == [(8, 28), (8, 14), (16, 14), (16, 7), (32, 5), (32, 5)]
    assert all(hasattr(m, "parametrizations") for m in weight_normed(network)), "weight norm on every layer"
    features = network.features(x)
    assert features.shape == (3, 32)
    assert torch.equal(network.logits(features), network(x)) and network.classify(x).shape == (3, 10)
    assert network.aux_classes == 10


def test_noise_and_dropout_only_in_training():
    torch.manual_seed(0)
    network = NoisyConvClassifier(widths=(8, 16), data_init=False)
    x = torch.rand(4, 1, 28, 28)
    network.eval()
    assert torch.equal(network(x), network(x)), "eval mode is deterministic"
    network.train()
    assert not torch.equal(network(x), network(x)), "input noise and dropout in training"
    quiet = NoisyConvClassifier(widths=(8, 16), input_noise=0.0, dropout=0.0, data_init=False).train()
    assert torch.equal(quiet(x), quiet(x)), "no noise, no dropout: training mode is deterministic too"


def test_first_training_batch_initializes_each_layer_to_unit_pre_activations():
    """Salimans & Kingma 2016's data-dependent init: on that batch, each layer's pre-activations
    have mean 0 and standard deviation 1 per output channel; later batches leave the weights alone."""
    torch.manual_seed(0)
    network = NoisyConvClassifier(widths=(8, 16, 32))
    x = torch.rand(64, 1, 28, 28) * 2 - 1
    network.eval()(x)
    assert not network.initialized, "eval mode (validation, sanity checks) does not initialize"
    network.train()(x)
    assert network.initialized
    h, checked = x, 0
    for layer in [*network.hidden, network.head]:
        if isinstance(layer, nn.Dropout):
            continue
        out = layer(h)
        if isinstance(layer, nn.Conv2d | nn.Linear):
            dims = [0, *range(2, out.dim())]
            assert out.mean(dim=dims).abs().max() < 1e-4 and (out.std(dim=dims) - 1).abs().max() < 1e-3
            checked += 1
        h = out
    assert checked == 7  # 6 convolutions and the dense head
    first = weight_normed(network)[0].weight.detach().clone()
    network(x * 0.5)
    assert torch.equal(weight_normed(network)[0].weight, first)
    assert NoisyConvClassifier(data_init=False).initialized, "data_init=False keeps the default init"


def test_rejects_a_wrong_shape_and_too_few_stages():
    with pytest.raises(ValueError, match=r"expects samples of shape \(1, 28, 28\)"):
        NoisyConvClassifier()(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match="at least two stage widths"):
        NoisyConvClassifier(widths=(8,))


def test_is_a_semi_supervised_discriminator():
    from gan_lightning.networks import BatchNormMLPGenerator

    generator = BatchNormMLPGenerator(latent_dim=8, hidden_dims=(16,))
    model = SemiSupervisedGAN(generator, NoisyConvClassifier(widths=(8, 16)))
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    assert model.classify(x).shape == (5, 10)
