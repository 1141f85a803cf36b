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
