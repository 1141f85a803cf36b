"""Sample-quality statistics on feature sets: pure functions on tensors, no state, no network.

``real`` / ``fake`` are (N, D) features of the reference and generated sets from the same
feature network; ``probabilities`` are (N, K) class probabilities from its classifier head.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _check_features(name: str, features: Tensor, min_rows: int) -> None:
    if features.dim() != 2:
        raise ValueError(f"{name} must be a (N, D) feature matrix, got shape {tuple(features.shape)}.")
    if features.shape[0] < min_rows:
        raise ValueError(f"{name} has {features.shape[0]} samples; at least {min_rows} are needed: draw more samples.")


def kernel_inception_distance(
    real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID: unbiased MMD² with the cubic polynomial kernel k(x, y) = (xᵀy / d + 1)³, averaged
    over random subsets (Bińkowski et al. 2018, "Demystifying MMD GANs", Sec. 4 and App. D).

    Unlike FID it is unbiased, so small sample counts do not inflate it. The subsets are
    drawn from a seeded generator, so every process of a DDP job gets the same number.
    ``subset_size`` is clamped to the smaller set. Returns ``(mean, std)`` over subsets.
    """
    _check_features("real", real, 2)
    _check_features("fake", fake, 2)
    real, fake = real.double(), fake.double()
    size = min(subset_size, real.shape[0], fake.shape[0])
    dimension = real.shape[1]
    generator = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = real[torch.randperm(real.shape[0], generator=generator)[:size].to(real.device)]
        y = fake[torch.randperm(fake.shape[0], generator=generator)[:size].to(fake.device)]
        k_xx = (x @ x.T / dimension + 1) ** 3
        k_yy = (y @ y.T / dimension + 1) ** 3
        k_xy = (x @ y.T / dimension + 1) ** 3
        off_diagonal = size * (size - 1)
        mmd = (
            (k_xx.sum() - k_xx.diagonal().sum()) / off_diagonal
            + (k_yy.sum() - k_yy.diagonal().sum()) / off_diagonal
            - 2 * k_xy.mean()
        )
        values.append(mmd)
    stacked = torch.stack(values)
    return stacked.mean().item(), (stacked.std().item() if subsets > 1 else 0.0)


def knn_radii(features: Tensor, k: int, chunk: int = 1024) -> Tensor:
    """Distance from each point to its k-th nearest neighbour in the same set (itself excluded)."""
    _check_features("features", features, k + 1)
    radii = []
    for block in features.split(chunk):
        distances = torch.cdist(block, features)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # the 1st is the point itself (0)
    return torch.cat(radii)


def inside_manifold(query: Tensor, support: Tensor, radii: Tensor, chunk: int = 1024) -> Tensor:
    """For each query point: does it fall in at least one ball (support_i, radii_i)?"""
    inside = []
    for block in query.split(chunk):
        inside.append((torch.cdist(block, support) <= radii.unsqueeze(0)).any(dim=1))
    return torch.cat(inside)


def precision_recall(real: Tensor, fake: Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019, Sec. 2, eq. 1-2).

    Each set's manifold is the union of balls around its points with radius = distance to
    the k-th nearest neighbour. Precision = fraction of fakes inside the real manifold
    (quality); recall = fraction of reals inside the fake manifold (coverage). The paper
    uses k = 3.
    """
    _check_features("real", real, k + 1)
    _check_features("fake", fake, k + 1)
    real, fake = real.float(), fake.float()
    precision = inside_manifold(fake, real, knn_radii(real, k)).float().mean().item()
    recall = inside_manifold(real, fake, knn_radii(fake, k)).float().mean().item()
    return precision, recall


def inception_score(probabilities: Tensor, splits: int = 10) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016, Sec. 4), mean and std over
    exactly ``splits`` consecutive parts whose sizes differ by at most one
    (``torch.tensor_split``; ``torch.chunk`` returns fewer parts when N is not a multiple,
    e.g. 4 for 12 rows in 5). Ranges from 1 to the number of classes; with the MNIST
    classifier it measures confident and class-balanced digits, not ImageNet-likeness."""
    if splits < 1:
        raise ValueError(f"splits must be >= 1, got {splits}.")
    _check_features("probabilities", probabilities, splits)
    probabilities = probabilities.double().clamp_min(1e-12)
    scores = []
    for part in probabilities.tensor_split(splits):
        marginal = part.mean(dim=0, keepdim=True)
        kl = (part * (part.log() - marginal.log())).sum(dim=1).mean()
        scores.append(kl.exp())
    stacked = torch.stack(scores)
    return stacked.mean().item(), (stacked.std().item() if splits > 1 else 0.0)


def class_coverage(fake_counts: Tensor, real_counts: Tensor, min_count: int = 1) -> tuple[int, float]:
    """Mode collapse on labelled data: ``(classes covered, KL(p_fake ‖ p_real))``.

    A class is covered when at least ``min_count`` generated samples are classified as it
    (the Stacked-MNIST protocol of Metz et al. 2017 / Srivastava et al. 2017 uses 1). The KL
    between the generated and the data's class histograms is 0 for a generator that matches
    the data's class balance and grows as classes are dropped or over-produced; classes
    absent from the data get a floor of 1e-10 so a stray prediction gives a large, finite KL.
    """
    if fake_counts.shape != real_counts.shape or fake_counts.dim() != 1:
        raise ValueError(
            f"Class histograms must be 1-D of the same length, got {tuple(fake_counts.shape)} and "
            f"{tuple(real_counts.shape)}."
        )
    if fake_counts.sum() <= 0 or real_counts.sum() <= 0:
        raise ValueError("Class histograms are empty: no samples were classified.")
    covered = int((fake_counts >= min_count).sum().item())
    p = fake_counts.double() / fake_counts.sum()
    q = (real_counts.double() / real_counts.sum()).clamp_min(1e-10)
    terms = torch.where(p > 0, p * (p.clamp_min(1e-300).log() - q.log()), torch.zeros_like(p))
    return covered, max(terms.sum().item(), 0.0)


def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FID from two feature matrices (Heusel et al. 2017, eq. 6), for reference and tests:
    ‖μ_r − μ_f‖² + Tr(Σ_r + Σ_f − 2 (Σ_r Σ_f)^½). Training uses torchmetrics' streaming one."""
    _check_features("real", real, 2)
    _check_features("fake", fake, 2)
    real, fake = real.double(), fake.double()
    mu_r, mu_f = real.mean(0), fake.mean(0)
    sigma_r, sigma_f = torch.cov(real.T), torch.cov(fake.T)
    sqrt_trace = torch.linalg.eigvals(sigma_r @ sigma_f).sqrt().real.sum()
    value = (mu_r - mu_f).square().sum() + sigma_r.trace() + sigma_f.trace() - 2 * sqrt_trace
    return max(value.item(), 0.0) if math.isfinite(value.item()) else value.item()
