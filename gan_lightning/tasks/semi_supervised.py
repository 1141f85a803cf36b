"""Semi-supervised GAN (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 5).

D is a (K+1)-class classifier: K real classes and "generated". It outputs K logits
``l_1..l_K``; the "generated" logit is fixed at 0 (the over-parameterisation the paper notes),
so with ``Z(x) = Σ_k exp(l_k(x))``

* ``p(y = k | x, y ≤ K) = softmax(l)_k`` and ``D(x) = p(real | x) = Z(x) / (Z(x) + 1)``;
* ``L_supervised = −E_(x,y) log softmax(l(x))_y`` on the labelled reals;
* ``L_unsupervised = −E_x log(Z(x) / (Z(x) + 1)) − E_z log(1 / (Z(G(z)) + 1))`` on unlabelled
  reals and generated samples; with ``L = logsumexp(l)`` it is
  ``E_x[softplus(L(x)) − L(x)] + E_z[softplus(L(G(z)))]``, stable for any logits.

D minimises ``L_supervised + unsupervised_weight · L_unsupervised``. G minimises feature
matching (Sec. 3.1), ``‖E_x f(x) − E_z f(G(z))‖²`` (per feature) on D's last hidden layer ``f``. The
classifier is D alone (or its moving average): :meth:`SemiSupervisedGAN.classify`, held-out
accuracy logged as ``val/accuracy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.data.semi_supervised import SemiSupervisedItem
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.tasks.gan import GAN
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import DEFAULT_OPTIMIZATION, Optimization

__all__ = ["SemiSupervisedGAN", "feature_matching_loss", "supervised_loss", "unsupervised_loss"]


def supervised_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """``−E log p(y | x, y ≤ K)``: the cross-entropy of the K real-class logits (the fixed
    "generated" logit drops out once the class is known to be real)."""
    return F.cross_entropy(logits.float(), labels)


def unsupervised_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """``−E_x log(Z(x)/(Z(x)+1)) − E_z log(1/(Z(G(z))+1))`` with ``Z = Σ exp(l_k)``, computed as
    ``softplus(L) − L`` and ``softplus(L)`` of ``L = logsumexp(l)``: no overflow for large logits."""
    real = torch.logsumexp(real_logits.float(), dim=1)
    fake = torch.logsumexp(fake_logits.float(), dim=1)
    return (F.softplus(real) - real).mean() + F.softplus(fake).mean()


def probability_real(logits: Tensor) -> Tensor:
    """``D(x) = Z(x) / (Z(x) + 1) = sigmoid(logsumexp(l))``: the probability of "real"."""
    return torch.sigmoid(torch.logsumexp(logits.float(), dim=1))


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """``‖E_x f(x) − E_z f(G(z))‖²₂ / d`` over the batch, for ``d`` features (Salimans et al. 2016,
    Sec. 3.1; divided by ``d`` as in their code, ``T.mean(T.square(mom_gen - mom_real))``: the
    same direction for Adam, a gradient norm that does not grow with D's width)."""
    return (real_features.float().mean(dim=0) - fake_features.float().mean(dim=0)).pow(2).mean()


class SemiSupervisedGAN(GAN):
    """A GAN whose discriminator learns to classify from a few labels and many unlabelled samples.

    Args:
        generator: maps ``z`` to samples (``latent_dim``), unconditional.
        discriminator: a classifier with ``aux_classes = K``, ``features(x)`` (the layer feature
            matching reads) and ``logits(features) -> (B, K)``, e.g.
            :class:`~gan_lightning.networks.NoisyMLPClassifier`.
        unsupervised_weight: the weight of ``L_unsupervised`` in D's loss (the paper: 1; its
            MNIST code: 0.5, halving both terms).
        labelled_augment: a class-preserving transform of the labelled batch before
            ``L_supervised`` (e.g. ``DiffAugment(policy=["translation"], translation_ratio=0.0625)``),
            so D does not memorise its few labelled images. Only the labelled batch: the
            unlabelled reals and the fakes stay as they are, so G is not taught shifted digits.
            Off (``None``) by default, as in the paper.

    The rest is :class:`~gan_lightning.tasks.GAN`'s. Training batches are
    :class:`~gan_lightning.data.semi_supervised.SemiSupervisedItem` ``(unlabelled, labelled, labels)``
    (as many of each), held-out batches ``(images, labels)``.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        unsupervised_weight: float = 1.0,
        labelled_augment: nn.Module | None = None,
        optimization: Optimization = DEFAULT_OPTIMIZATION,
        latent_distribution: Literal["normal", "uniform"] = "uniform",
        num_fixed: int = 64,
        sample_seed: int = 0,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
    ) -> None:
        super().__init__(
            generator,
            discriminator,
            optimization=optimization,
            latent_distribution=latent_distribution,
            num_fixed=num_fixed,
            sample_seed=sample_seed,
            metrics=metrics,
        )
        missing = [name for name in ("features", "logits") if not callable(getattr(discriminator, name, None))]
        if getattr(discriminator, "aux_classes", 0) < 2 or missing:
            raise ValueError(
                f"SemiSupervisedGAN needs a classifier discriminator with aux_classes >= 2, features(x) and "
                f"logits(features); {type(discriminator).__name__} lacks {missing or ['aux_classes']} "
                "(use gan_lightning.networks.NoisyMLPClassifier)."
            )
        if getattr(generator, "num_classes", 0):
            raise ValueError("SemiSupervisedGAN's generator is unconditional: set num_classes to 0.")
        if unsupervised_weight < 0:
            raise ValueError(f"unsupervised_weight must be >= 0, got {unsupervised_weight}.")
        self.unsupervised_weight = unsupervised_weight
        self.labelled_augment = labelled_augment
        self.keep_average("discriminator")  # the classifier as evaluated: its moving average (when ema_kimg is set)

    # ------------------------------------------------------------------ the phases
    def discriminator_step_loss(
        self, labelled: Tensor, labels: Tensor, unlabelled: Tensor, fake: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``L_supervised + unsupervised_weight · L_unsupervised`` on one batch of each kind."""
        labelled_logits = self.discriminator(self.augmented_labelled(labelled))
        real_logits, fake_logits = self.discriminator(unlabelled), self.discriminator(fake)
        supervised = supervised_loss(labelled_logits, labels)
        unsupervised = unsupervised_loss(real_logits, fake_logits)
        loss = supervised + self.unsupervised_weight * unsupervised
        stats = {
            "d_loss": loss.detach(),
            "d_supervised": supervised.detach(),
            "d_unsupervised": unsupervised.detach(),
            "accuracy": (labelled_logits.argmax(dim=1) == labels).float().mean(),
            "D(x)": probability_real(real_logits.detach()).mean(),
            "D(G(z))": probability_real(fake_logits.detach()).mean(),
        }
        return loss, stats

    def augmented_labelled(self, labelled: Tensor) -> Tensor:
        """The labelled batch as ``L_supervised`` sees it: through ``labelled_augment`` if set."""
        return labelled if self.labelled_augment is None else self.labelled_augment(labelled)

    def generator_step_loss(self, unlabelled: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Feature matching of a fresh fake batch against the unlabelled reals."""
        with torch.no_grad():
            real_features = self.discriminator.features(unlabelled)
        fake = self.fake_batch(unlabelled.shape[0])
        loss = feature_matching_loss(real_features, self.discriminator.features(fake.images))
        return loss, {"g_loss": loss.detach()}

    def training_step(self, batch: SemiSupervisedItem, batch_idx: int) -> dict[str, Tensor]:
        unlabelled, labelled, labels = batch
        iteration = self.global_step
        with self.training_role("discriminator"):
            with torch.no_grad():
                fake = self.fake_batch(unlabelled.shape[0])
            loss, stats = self.discriminator_step_loss(labelled, labels, unlabelled, fake.images)
            self.step("discriminator", loss)
        with self.training_role("generator"):
            loss, g_stats = self.generator_step_loss(unlabelled)
            self.step("generator", loss)
        stats = {**stats, **g_stats, "d_steps": torch.tensor(float(iteration + 1))}
        self.end_iteration(unlabelled.shape[0], stats)
        self.log_progress(unlabelled.shape[0], d_loss=stats["d_loss"], g_loss=stats["g_loss"])
        return stats

    # ------------------------------------------------------------------ the classifier
    def classify(self, images: Tensor) -> Tensor:
        """D's K class logits for ``images`` (in [-1, 1], the data's shape): its moving average if
        ``ema_kimg`` keeps one (the paper's code tests averaged weights too), in eval mode (no
        noise), without gradients or any change to the model."""
        classifier = self.averaged("discriminator")
        with looking_only(classifier):
            return classifier(images.to(self.device)).float()

    def held_out_diagnostics(self, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """``val/accuracy`` and ``val/cross_entropy`` of :meth:`classify` on held-out digits."""
        images, labels = batch[0], batch[1]
        logits = self.classify(images)
        return {
            "accuracy": (logits.argmax(dim=1) == labels).float().mean(),
            "cross_entropy": supervised_loss(logits, labels),
        }

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        """The predicted class of each image of the batch (``lightning predict``)."""
        images = batch[0] if isinstance(batch, list | tuple) else batch
        return self.classify(images).argmax(dim=1)
