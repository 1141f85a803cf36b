"""Generator-side penalties against formulas worked by hand: path length (StyleGAN2 Eq. 4) on
linear generators, conditional and not, and mode seeking (MSGAN Eq. 3) paired by condition."""

from __future__ import annotations

import math

import lightning.pytorch as pl
import pytest
import torch
from torch import Tensor, nn

from gan_lightning.networks.base import conditional_call
from gan_lightning.regularizers import GeneratorBatch, ModeSeekingPenalty, PathLengthPenalty
from gan_lightning.tasks import GAN

SIDE, LATENT = 3, 4


class LinearGenerator(nn.Module):
    """G(z, c) = A z + E[c], as a (1, 3, 3) image: its Jacobian in z is A whatever the class."""

    def __init__(self, num_classes: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(1)
        self.matrix = nn.Parameter(torch.randn(SIDE * SIDE, LATENT, generator=generator))
        self.num_classes = num_classes
        if num_classes:
            self.embedding = nn.Parameter(torch.randn(num_classes, SIDE * SIDE, generator=generator))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        out = z @ self.matrix.T
        if labels is not None:
            out = out + self.embedding[labels]
        return out.view(-1, 1, SIDE, SIDE)


def generator_batch(generator: nn.Module, latent: Tensor, labels: Tensor | None) -> GeneratorBatch:
    return GeneratorBatch(
        generator=generator,
        generate=lambda z: conditional_call(generator, z, labels),
        latent=latent,
        labels=labels,
        generate_with=lambda z, y: conditional_call(generator, z, y),
    )


@pytest.mark.parametrize("num_classes", [0, 10], ids=["unconditional", "conditional"])
def test_path_length_is_the_spread_of_the_jacobian_transpose_times_image_noise(num_classes: int) -> None:
    generator = LinearGenerator(num_classes)
    latent = torch.randn(8, LATENT)
    labels = torch.arange(8) % 10 if num_classes else None
    penalty = PathLengthPenalty(interval=1, batch_shrink=2, mean_decay=0.25)
    torch.manual_seed(0)
    value = penalty.penalty(generator_batch(generator, latent, labels))  # 8 // 2 = 4 rows, labels cut alike

    torch.manual_seed(0)
    noise = torch.randn(4, 1, SIDE, SIDE) / math.sqrt(SIDE * SIDE)  # y, scaled by 1/sqrt(H·W)
    lengths = (noise.flatten(1) @ generator.matrix.detach()).norm(dim=1)  # ‖Jᵀ y‖ with J = A
    running_mean = 0.25 * lengths.mean()  # lerp from 0 with decay 0.25
    assert float(penalty.mean_length) == pytest.approx(float(running_mean), rel=1e-5)
    assert float(value) == pytest.approx(float((lengths - running_mean).square().mean()), rel=1e-5)


def test_path_length_gradient_flows_through_the_fresh_running_mean() -> None:
    """stylegan2-ada: ``pl_mean = pl_mean.lerp(lengths.mean(), decay)``, only the stored copy
    detached. For G(z) = A z, lᵢ = ‖Aᵀyᵢ‖, ∂lᵢ/∂A = yᵢ (Aᵀyᵢ)ᵀ / lᵢ and the mean a carries
    ``decay · mean_j ∂l_j/∂A``: ∂/∂A mean (lᵢ − a)² = 2/N Σᵢ (lᵢ − a)(∂lᵢ/∂A − ∂a/∂A)."""
    generator = LinearGenerator()
    penalty = PathLengthPenalty(interval=1, batch_shrink=1, mean_decay=0.25)
    penalty.mean_length.fill_(0.5)
    latent = torch.randn(4, LATENT)
    torch.manual_seed(0)
    value = penalty.penalty(generator_batch(generator, latent, None))
    (gradient,) = torch.autograd.grad(value, generator.matrix)

    torch.manual_seed(0)
    noise = (torch.randn(4, 1, SIDE, SIDE) / math.sqrt(SIDE * SIDE)).flatten(1)  # yᵢ (4, 9)
    matrix = generator.matrix.detach()
    projected = noise @ matrix  # (Aᵀyᵢ)ᵀ, (4, 4)
    lengths = projected.norm(dim=1)
    mean = 0.5 + 0.25 * (lengths.mean() - 0.5)
    per_sample = noise[:, :, None] * projected[:, None, :] / lengths[:, None, None]  # ∂lᵢ/∂A, (4, 9, 4)
    expected = 2 / 4 * ((lengths - mean)[:, None, None] * (per_sample - 0.25 * per_sample.mean(0))).sum(0)
    torch.testing.assert_close(gradient, expected)
    assert float(penalty.mean_length) == pytest.approx(float(mean), rel=1e-6)


def test_cutting_a_conditional_batch_without_a_way_to_cut_its_labels_is_a_clear_error() -> None:
    batch = GeneratorBatch(nn.Identity(), lambda z: z, torch.randn(4, 2), labels=torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="generate_with"):
        batch.first(2)


class ClassOffsetGenerator(nn.Module):
    """G(c, z) = 0.01 · z + 10 · c: little diversity within a class, a large gap between classes."""

    num_classes = 2

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        return 0.01 * z + 10.0 * labels[:, None].float()


def test_mode_seeking_pairs_samples_of_one_condition() -> None:
    generator = ClassOffsetGenerator()
    latent = torch.randn(6, 5, requires_grad=True)
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    value = ModeSeekingPenalty(eps=1e-5).penalty(generator_batch(generator, latent, labels))
    # Eq. 3 within one class: mean|0.01 (z₁ − z₂)| / mean|z₁ − z₂| = 0.01, whatever z₂ is
    assert float(value) == pytest.approx(1 / (0.01 + 1e-5), rel=1e-5)
    # the halves of this batch hold different classes: pairing them would read the class gap as diversity
    halves = (generator(latent[:3], labels[:3]) - generator(latent[3:], labels[3:])).abs().mean()
    assert float(halves / (latent[:3] - latent[3:]).abs().mean()) > 1.0


def test_mode_seeking_without_labels_pairs_the_two_halves() -> None:
    latent = torch.randn(4, 3)
    images = torch.stack([latent[0] * 2, latent[1] * 2, latent[2] * 3, latent[3] * 3])
    batch = GeneratorBatch(nn.Identity(), lambda z: z, latent, images=images)
    expected = (images[:2] - images[2:]).abs().mean() / (latent[:2] - latent[2:]).abs().mean()
    assert float(ModeSeekingPenalty(eps=0.0).penalty(batch)) == pytest.approx(float(1 / expected), rel=1e-6)


def test_path_length_reaches_a_conditional_gan_through_its_training_step(tmp_path) -> None:
    """The crash this fixes: a conditional ResNet generator with batch_shrink 2 (8 latents, 4 rows)."""

    from gan_lightning.networks import ResNetDiscriminator, ResNetGenerator
    from tests.conftest import TinyData

    model = GAN(
        ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=8, num_classes=10),
        ResNetDiscriminator(image_size=8, channels=1, width=8, num_classes=10),
        generator_regularizers=[PathLengthPenalty(interval=1, batch_shrink=2)],
        num_fixed=4,
    )
    trainer = pl.Trainer(
        accelerator="cpu", max_steps=2, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, limit_val_batches=0, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(model, TinyData(num=32, batch_size=8))
    assert trainer.global_step == 2 and float(model.generator_regularizers[0].mean_length) > 0


def test_mode_seeking_rewards_different_images_for_different_latents() -> None:
    from gan_lightning.regularizers import GeneratorBatch

    latent = torch.randn(8, 4)
    same = GeneratorBatch(torch.nn.Identity(), lambda z: z, latent, images=torch.zeros(8, 1, 4, 4))
    varied = GeneratorBatch(torch.nn.Identity(), lambda z: z, latent, images=torch.randn(8, 1, 4, 4))
    penalty = ModeSeekingPenalty()
    assert penalty.penalty(same) > 1e4 > penalty.penalty(varied)
