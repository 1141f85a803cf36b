"""SRGAN's VGG19 content loss (Ledig et al. 2017, Eq. 5): φ5,4 features of torchvision's VGG19,
rescaled by 1/12.75, read from a local file only. Checked on CPU with random weights."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torchvision.models import vgg19

from gan_lightning.errors import WeightsNotFoundError, one_line
from gan_lightning.metrics import VGGFeatures, VGGLoss
from gan_lightning.metrics.restoration import VGG19_WEIGHTS_FILE, vgg19_weights_file
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def random_vgg19(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Sequential]:
    """A state_dict file with torchvision's VGG19 layout (``features.*`` only: the part the loss
    reads) and random weights, and the reference network holding the same weights."""
    torch.manual_seed(0)
    reference = vgg19().features.eval()
    path = tmp_path_factory.mktemp("vgg") / VGG19_WEIGHTS_FILE
    torch.save({f"features.{name}": tensor for name, tensor in reference.state_dict().items()}, path)
    return path, reference


def imagenet_input(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] RGB → what torchvision's VGG was trained on: [0, 1] minus ImageNet's mean, over its std."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((images + 1) / 2 - mean) / std


def test_vgg54_is_the_feature_map_of_conv5_4_after_relu_scaled_by_1_over_12_75(random_vgg19):
    path, reference = random_vgg19
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    features = VGGFeatures(path)(images)
    expected = reference[:36](imagenet_input(images)) / 12.75  # conv5_4 is layer 34, its ReLU 35
    assert features.shape == (2, 512, 2, 2)
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-6)
    assert (features >= 0).all(), "φ5,4 is taken after the activation"


def test_vgg_loss_is_the_mse_of_rescaled_features_and_scales_with_its_square(random_vgg19):
    path, reference = random_vgg19
    torch.manual_seed(1)
    sr, hr = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    loss = VGGLoss(path)(sr, hr)
    by_hand = F.mse_loss(reference[:36](imagenet_input(sr)), reference[:36](imagenet_input(hr))) / 12.75**2
    torch.testing.assert_close(loss, by_hand, rtol=1e-5, atol=0)
    torch.testing.assert_close(VGGLoss(path, scale=1.0)(sr, hr), loss * 12.75**2, rtol=1e-5, atol=0)
    assert VGGLoss(path)(hr, hr) == 0


def test_vgg_loss_trains_the_generator_and_keeps_vgg_frozen(random_vgg19):
    path, _ = random_vgg19
    loss_fn = VGGLoss(path, layer="2_2").train()
    assert not loss_fn.feature_network.training and not any(p.requires_grad for p in loss_fn.parameters())
    sr = torch.zeros(1, 1, 16, 16, requires_grad=True)  # grey images are repeated to RGB
    loss_fn(sr, torch.rand(1, 1, 16, 16) * 2 - 1).backward()
    assert sr.grad is not None and sr.grad.abs().sum() > 0


def test_vgg_weights_come_from_the_torch_hub_cache_by_default(random_vgg19, monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as missing:
        vgg19_weights_file(None)
    expected = tmp_path / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert str(expected) in str(missing.value)
    expected.parent.mkdir()
    expected.symlink_to(random_vgg19[0])
    assert vgg19_weights_file(None) == expected


def test_missing_weights_is_a_one_line_error_naming_the_file(tmp_path):
    with pytest.raises(WeightsNotFoundError) as missing:
        VGGLoss(tmp_path / "nowhere.pth")
    message = one_line(missing.value)
    assert message == str(missing.value), "the message is one line already"
    assert str(tmp_path / "nowhere.pth") in message and "vgg19-dcbb9e9d.pth" in message
    assert "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth" in message and "never downloads" in message


def test_a_file_of_another_network_is_named_not_loaded(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, path)
    with pytest.raises(
        ValueError, match=r"other\.pth is not torchvision's VGG19 state_dict: it lacks features\.0\.bias"
    ):
        VGGLoss(path)


@pytest.mark.slow
def test_the_photo_recipe_without_weights_stops_with_one_line_naming_the_file(tmp_path):
    """configs/srgan_vgg.yaml reads torch hub's cache by default: nothing there, one `error:` line."""
    env = {**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1", "TORCH_HOME": str(tmp_path / "torch")}
    env.pop("GAN_LIGHTNING_TRACEBACK", None)
    command = [
        sys.executable, "-m", "gan_lightning", "fit", "--config", str(REPO_ROOT / "configs" / "srgan_vgg.yaml"),
        f"--data.init_args.root={tmp_path}", "--trainer.logger=false", f"--trainer.default_root_dir={tmp_path}",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    expected = tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert last.startswith("error: ") and f"VGG19 weights not found at {expected}" in last
