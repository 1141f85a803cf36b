"""Restoration metrics: PSNR and SSIM on known cases, the bicubic baseline, and the perceptual
loss (zero on identical images, trains only its input, local weights)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_lightning.metrics import PerceptualLoss, bicubic_upscale, psnr, ssim


def test_psnr_and_ssim_of_identical_images() -> None:
    images = torch.rand(2, 3, 16, 16) * 2 - 1
    assert psnr(images, images) == float("inf")
    assert ssim(images, images) == pytest.approx(1.0)


def test_psnr_of_a_known_error() -> None:
    """An offset of 0.2 in [-1, 1] is 0.1 in [0, 1]: MSE 0.01, PSNR 20 dB."""
    target = torch.zeros(2, 1, 8, 8)
    assert psnr(target + 0.2, target) == pytest.approx(20.0, abs=1e-4)
    assert psnr(target + 0.2, target, reduction="none").shape == (2,)


def test_bicubic_beats_nearest_on_a_smooth_downsampled_image() -> None:
    grid = torch.linspace(-3, 3, 64)
    smooth = (torch.sin(grid)[:, None] * torch.cos(1.3 * grid)[None, :]).expand(2, 1, 64, 64) * 0.9
    low = F.interpolate(smooth, scale_factor=0.25, mode="bicubic", antialias=True)
    bicubic = bicubic_upscale(low, 4)
    nearest = F.interpolate(low, scale_factor=4, mode="nearest")
    assert bicubic.shape == smooth.shape and bicubic.abs().max() <= 1
    assert psnr(bicubic, smooth) > psnr(nearest, smooth) + 3
    assert ssim(bicubic, smooth) > ssim(nearest, smooth)


def test_restoration_metrics_reject_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same shape"):
        psnr(torch.zeros(1, 1, 16, 16), torch.zeros(1, 1, 8, 8))


def test_mnist_perceptual_loss_is_zero_on_identical_images_and_trains_only_the_input() -> None:
    loss_fn = PerceptualLoss("mnist").train()
    assert not loss_fn.feature_network.training
    target = torch.rand(2, 1, 28, 28) * 2 - 1
    assert loss_fn(target, target) == 0
    pred = (torch.rand(2, 1, 28, 28) * 2 - 1).requires_grad_()
    loss = loss_fn(pred, target)
    loss.backward()
    assert loss > 0 and pred.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in loss_fn.parameters())


def test_perceptual_loss_loads_a_local_weights_file(tmp_path) -> None:
    trained = nn.Conv2d(1, 2, 3)
    torch.save(trained.state_dict(), tmp_path / "features.pt")
    loss_fn = PerceptualLoss(nn.Conv2d(1, 2, 3), weights_path=tmp_path / "features.pt")
    assert torch.equal(loss_fn.feature_network.weight, trained.weight)
    with pytest.raises(FileNotFoundError, match="weights not found"):
        PerceptualLoss(nn.Conv2d(1, 2, 3), weights_path=tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="Unknown feature network 'vgg19'"):
        PerceptualLoss("vgg19")
