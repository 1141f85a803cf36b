"""Feature networks: looked up by name through the table, and Inception offline (a local weights
file, or a construction-time error that says how to get one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_lightning.metrics import (
    FEATURE_NETWORKS,
    FeatureNetwork,
    GenerativeMetrics,
    InceptionFeatures,
    build_feature_network,
)
from gan_lightning.metrics.features import feature_network_class
from gan_lightning.mnist import MNISTFeatures
from tests.conftest import tiny_gan


# ---------------------------------------------------------------- offline Inception
def test_inception_without_weights_fails_at_construction_with_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FileNotFoundError, match=r"(?s)wget https://.*weights-inception.*weights_path"):
        InceptionFeatures(weights_path=tmp_path / "missing.pth")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "empty-hub"))
    with pytest.raises(FileNotFoundError, match="empty-hub"):
        GenerativeMetrics(features="inception", mode_coverage=False)
    with pytest.raises(FileNotFoundError):  # a GAN configured with it never starts training
        tiny_gan(metrics=GenerativeMetrics(features="inception", mode_coverage=False))


@pytest.mark.slow
def test_inception_features_load_a_local_weights_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local file is all the Inception path needs (random weights stand in for the real ones)."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    with monkeypatch.context() as patch:
        patch.setattr(torch, "load", lambda *args, **kwargs: None)
        patch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
        random_network = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], "unused.pth")
    weights = tmp_path / "weights-inception.pth"
    torch.save(random_network.state_dict(), weights)
    metrics = GenerativeMetrics(features="inception", weights_path=str(weights), mode_coverage=False, floor=False)
    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    features, logits = metrics.extract(images)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert metrics.feature_name == "inception" and not any(True for _ in metrics.parameters())


# ---------------------------------------------------------------------- feature networks by name
def test_feature_networks_by_name_are_imported_through_the_table():
    for name in FEATURE_NETWORKS:
        network_class = feature_network_class(name)
        assert issubclass(network_class, FeatureNetwork) and network_class.name == name
    assert isinstance(build_feature_network("mnist"), MNISTFeatures)
    with pytest.raises(ValueError, match=r"Unknown feature network 'vgg'.*'inception', 'mnist', 'stacked_mnist'"):
        build_feature_network("vgg")
