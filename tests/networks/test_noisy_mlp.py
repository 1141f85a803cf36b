"""The permutation-invariant MNIST networks of Salimans et al. 2016: noise only in training,
weight norm on every layer of D, features from the last hidden layer."""

from __future__ import annotations

import pytest
import torch

from gan_lightning.networks import BatchNormMLPGenerator, GaussianNoise, NoisyMLPClassifier


def test_gaussian_noise_has_its_std_in_training_and_none_in_eval():
    torch.manual_seed(0)
    noise = GaussianNoise(0.5)
    x = torch.zeros(20000)
    assert noise(x).std().item() == pytest.approx(0.5, rel=0.03)
    assert torch.equal(noise.eval()(x), x)


def test_classifier_is_the_papers_network_with_features_and_logits():
    network = NoisyMLPClassifier()
    widths = [m.out_features for m in network.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [1000, 500, 250, 250, 250, 10]
    assert all(hasattr(m, "parametrizations") for m in network.modules() if isinstance(m, torch.nn.Linear))
    x = torch.randn(3, 1, 28, 28)
    network.eval()
    features = network.features(x)
    assert features.shape == (3, 250) and (features >= 0).all()  # after the last ReLU
    assert torch.equal(network.logits(features), network(x)) and network.classify(x).shape == (3, 10)
    network.train()
    assert not torch.equal(network(x), network(x)), "noise on the input and hidden layers in training"


def test_classifier_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match=r"expects samples of shape \(1, 28, 28\)"):
        NoisyMLPClassifier()(torch.zeros(2, 1, 8, 8))


def test_generator_makes_images_in_range():
    generator = BatchNormMLPGenerator(latent_dim=8, hidden_dims=(16,))
    images = generator(torch.rand(4, 8))
    assert images.shape == (4, 1, 28, 28) and images.abs().max() <= 1


def test_first_training_batch_initializes_each_layer_to_unit_pre_activations():
    """Salimans & Kingma 2016's data-dependent init: on that batch, every layer's pre-activations
    have mean 0 and standard deviation 1 per unit; later batches leave the weights alone."""
    torch.manual_seed(0)
    network = NoisyMLPClassifier(hidden_dims=(64, 32))
    x = torch.rand(200, 1, 28, 28) * 2 - 1
    network.eval()(x)
    assert not network.initialized, "eval mode (validation, sanity checks) does not initialize"
    network.train()(x)
    assert network.initialized
    h = x.flatten(1)
    linears = [m for m in network.modules() if isinstance(m, torch.nn.Linear)]
    for linear in linears:
        pre = linear(h)
        assert pre.mean(0).abs().max() < 1e-4 and (pre.std(0) - 1).abs().max() < 1e-3
        h = torch.relu(pre)
    first = linears[0].weight.detach().clone()
    network(x * 0.5)
    assert torch.equal(linears[0].weight, first)
    assert NoisyMLPClassifier(data_init=False).initialized, "data_init=False keeps the default init"
