"""ADA's geometric group (Karras et al. 2020, App. B): the one warp per run of operations, on
hand-worked cases, with the paper's parameter distributions."""

from __future__ import annotations

import math

import pytest
import torch

from gan_lightning.augment.geometric import (
    draw_geometric,
    geometric,
    rotation_matrix,
    scale_matrix,
    translation_matrix,
    warp,
)


def test_a_quarter_turn_through_the_warp_is_rot90():
    for size in (5, 6):
        x = torch.rand(2, 3, size, size)
        turned = warp(x, rotation_matrix(torch.full((2,), math.pi / 2)))
        torch.testing.assert_close(turned, torch.rot90(x, -1, dims=(2, 3)), atol=1e-5, rtol=0)


def test_a_half_turn_of_a_wide_image_is_a_double_flip():
    """Pixel coordinates on both axes, so the rotation is rigid on non-square images."""
    x = torch.rand(1, 1, 4, 6)
    torch.testing.assert_close(warp(x, rotation_matrix(torch.tensor([math.pi]))), x.flip(2, 3), atol=1e-5, rtol=0)


def test_scaling_by_two_maps_a_pixel_to_twice_its_distance_from_the_centre():
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 5] = 1.0  # one pixel right of the centre (4, 4)
    out = warp(x, scale_matrix(torch.tensor([2.0]), torch.tensor([2.0])))
    torch.testing.assert_close(out[0, 0, 4], torch.tensor([0, 0, 0, 0, 0, 0.5, 1, 0.5, 0]), atol=1e-6, rtol=0)
    assert out[0, 0, :3].abs().max() == 0 and out[0, 0, 6:].abs().max() == 0


def test_half_a_pixel_of_translation_interpolates_a_ramp_and_reflects_the_border():
    ramp = torch.arange(6.0).view(1, 1, 1, 6).expand(1, 1, 3, 6)
    out = warp(ramp, translation_matrix(torch.tensor([0.5]), torch.tensor([0.0])))
    # output x reads input x - 0.5; at x = 0 that is -0.5, reflected about pixel 0 to +0.5
    expected = torch.tensor([0.5, 0.5, 1.5, 2.5, 3.5, 4.5]).expand(3, 6)
    torch.testing.assert_close(out[0, 0], expected, atol=1e-6, rtol=0)


def test_anisotropic_scaling_stretches_one_axis_and_squeezes_the_other():
    point = torch.tensor([1.0, 1.0, 1.0])
    s = torch.tensor([2.0])
    assert (scale_matrix(s, 1 / s)[0] @ point).tolist() == [2.0, 0.5, 1.0]
    torch.manual_seed(0)
    matrices = draw_geometric(["aniso"], 1.0, 20_000, 8, 8, torch.device("cpu"))
    torch.testing.assert_close(torch.linalg.det(matrices), torch.ones(20_000))  # area kept
    assert matrices[:, 0, 0].log2().std().item() == pytest.approx(0.2, abs=0.005)


def test_the_warp_composes_scale_before_translation():
    """One matrix per sample, in the paper's order: the translation is not scaled."""
    torch.manual_seed(0)
    s = torch.exp2(torch.randn(64) * 0.2)
    torch.rand(64)  # scale's coin (p = 1: always applied)
    t = torch.randn(64, 2) * 0.125 * torch.tensor([16.0, 8.0])
    torch.manual_seed(0)
    matrices = draw_geometric(["xfrac", "scale"], 1.0, 64, 8, 16, torch.device("cpu"))
    expected = translation_matrix(t[:, 0], t[:, 1]) @ scale_matrix(s, s)
    torch.testing.assert_close(matrices, expected)


@pytest.mark.parametrize("name", ["scale", "rotate", "aniso", "xfrac"])
def test_each_geometric_operation_applies_with_probability_p(name: str):
    """Rotation draws twice (before and after the stretch) with 1 - sqrt(1 - p) each, so it
    too turns a sample with probability p; untouched samples come back bit for bit."""
    torch.manual_seed(0)
    matrices = draw_geometric([name], 0.5, 20_000, 8, 8, torch.device("cpu"))
    moved = (matrices != torch.eye(3)).flatten(1).any(dim=1).float().mean().item()
    assert moved == pytest.approx(0.5, abs=0.015)
    x = torch.rand(4000, 1, 8, 8)
    kept = (geometric(x, 0.5, [name]) == x).flatten(1).all(dim=1).float().mean().item()
    assert kept == pytest.approx(0.5, abs=0.03)


def test_geometric_parameters_follow_the_paper():
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    scale = draw_geometric(["scale"], 1.0, 20_000, 8, 16, cpu)
    assert scale[:, 0, 0].log2().std().item() == pytest.approx(0.2, abs=0.005)
    shift = draw_geometric(["xfrac"], 1.0, 20_000, 8, 16, cpu)  # 0.125 of the size: 2 px in x, 1 px in y
    assert shift[:, 0, 2].std().item() == pytest.approx(2.0, rel=0.03)
    assert shift[:, 1, 2].std().item() == pytest.approx(1.0, rel=0.03)
    turn = draw_geometric(["rotate"], 1.0, 20_000, 8, 8, cpu)
    angle = torch.atan2(turn[:, 1, 0], turn[:, 0, 0])
    assert angle.abs().mean().item() == pytest.approx(math.pi / 2, rel=0.03)  # uniform on the circle


def test_the_warp_passes_the_gradient_back_to_the_pixels_it_read():
    x = torch.rand(1, 1, 5, 5, requires_grad=True)
    weight = torch.rand(1, 1, 5, 5)
    (warp(x, rotation_matrix(torch.tensor([math.pi / 2]))) * weight).sum().backward()
    torch.testing.assert_close(x.grad, torch.rot90(weight, 1, dims=(2, 3)), atol=1e-5, rtol=0)


def test_the_warp_keeps_a_half_precision_dtype():
    x = torch.rand(2, 1, 6, 6).bfloat16()
    out = warp(x, rotation_matrix(torch.full((2,), math.pi / 2)))
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, torch.rot90(x, -1, dims=(2, 3)))  # pixel centres onto pixel centres
