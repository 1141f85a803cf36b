"""The GAN task: one generator fed by noise, one discriminator, alternating updates.

One *training iteration* (one ``training_step``) is ``n_critic`` discriminator updates
followed by one generator update. ``trainer.global_step`` -- and so ``max_steps``,
``val_check_interval`` in steps, checkpoint intervals, LR schedules and the EMA -- counts
**iterations (generator updates)**. Discriminator updates are logged as ``train/d_steps``.

By default every critic update sees a **fresh real batch** (WGAN Algorithm 1, WGAN-GP
Algorithm 1): the data module then delivers ``n_critic × batch_size`` real samples per
iteration, and one *epoch* is one pass of the critic over the training set
(``len(train) / (n_critic · batch_size)`` iterations). ``real_batches="reuse"`` shows the
same real batch to all ``n_critic`` updates instead.

The training step reads as StyleGAN2's phases: D main (+ its per-step regularizers),
D reg (lazy regularizers, their own step), G main, G reg.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from gan_lightning.augment.base import observe_discriminator, set_iteration
from gan_lightning.batch import split_batch
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.networks.base import conditional_call, is_conditional
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.regularizers import (
    DiscriminatorBatch,
    GeneratorBatch,
    GeneratorRegularizer,
    Regularizer,
    eager_networks,
)
from gan_lightning.sampling.truncation import truncated_normal, truncated_uniform
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import DEFAULT_OPTIMIZATION, Optimization

Batch = Tensor | tuple[Tensor, ...] | list[Tensor]

__all__ = ["GAN", "FakeBatch"]


@dataclass
class FakeBatch:
    """Generated samples with the inputs that made them."""

    images: Tensor
    latent: Tensor
    labels: Tensor | None


def apply_regularizers(
    regularizers: Iterable[Regularizer | GeneratorRegularizer], batch: Any, zero: Tensor
) -> tuple[Tensor, dict[str, Tensor]]:
    """The sum of the weighted penalties and each unweighted value by name. Compiled networks
    run eagerly here: a penalty may differentiate a gradient (:func:`eager_networks`)."""
    total, stats = zero, {}
    with eager_networks():
        for regularizer in regularizers:
            term, stats[regularizer.name] = regularizer(batch)
            total = total + term
    return total, stats


def lazy_interval_of(regularizers: Iterable[Regularizer | GeneratorRegularizer], owner: str) -> int | None:
    """The one interval > 1 shared by ``owner``'s lazy regularizers (``None`` if none is lazy)."""
    intervals = {reg.interval for reg in regularizers if reg.interval > 1}
    if len(intervals) > 1:
        raise ValueError(
            f"The {owner}'s lazy regularizers have different intervals {sorted(intervals)}: a network has one "
            "lazy regularization phase; give them the same interval."
        )
    return intervals.pop() if intervals else None


class GAN(AdversarialTask):
    """Adversarial training of ``generator`` against ``discriminator``.

    Args:
        generator: maps ``z`` (B, latent_dim) to samples; must expose ``latent_dim``.
        discriminator: maps samples to raw scores of shape (B,).
        objective: how scores become losses (:mod:`gan_lightning.objectives`).
        regularizers: penalties on D (``GradientPenalty``, ``R1Penalty``); ``interval > 1``
            makes one lazy (its own phase and step; D's optimizer is corrected for it).
        generator_regularizers: penalties on G (``PathLengthPenalty``, ``ModeSeekingPenalty``).
        augment: applied to real *and* fake samples before D (DiffAugment, ADA, instance
            noise); must be differentiable so G learns through it.
        n_critic: discriminator updates per generator update (WGAN: 5).
        real_batches: ``fresh`` (a new real batch for every critic update, as in the WGAN
            papers) or ``reuse`` (one real batch for all ``n_critic`` updates).
        optimization: per role the optimizer, LR schedule and clip norm, and the half-life of
            the generator's moving average (samples and metrics use the average);
            :class:`~gan_lightning.training.Optimization`, default Adam(2e-4, (0.5, 0.999)) and
            ``ema_kimg`` 10.
        latent_distribution: ``normal`` or ``uniform`` on [-1, 1].
        num_fixed: size of the fixed latent batch used for sample grids.
        sample_seed: seed of that fixed batch (and of the noise inputs when drawing it), so
            grids are comparable across epochs and runs.
        metrics: sample-quality metrics computed at each validation from the sampling
            generator (:class:`~gan_lightning.metrics.GenerativeMetrics`, or any
            :class:`~gan_lightning.metrics.TaskMetrics`), logged as ``val/<name>``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        objective: AdversarialObjective | None = None,
        regularizers: list[Regularizer] | None = None,
        generator_regularizers: list[GeneratorRegularizer] | None = None,
        augment: nn.Module | None = None,
        n_critic: int = 1,
        real_batches: Literal["fresh", "reuse"] = "fresh",
        optimization: Optimization = DEFAULT_OPTIMIZATION,
        latent_distribution: Literal["normal", "uniform"] = "normal",
        num_fixed: int = 64,
        sample_seed: int = 0,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        if not hasattr(generator, "latent_dim"):
            raise ValueError(
                f"The generator ({type(generator).__name__}) must expose `latent_dim` (the size of z) "
                "so the module can sample noise for it."
            )
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1 (discriminator updates per generator update), got {n_critic}.")
        if real_batches not in ("fresh", "reuse"):
            raise ValueError(f"real_batches must be 'fresh' or 'reuse', got {real_batches!r}.")
        if num_fixed < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}.")
        if latent_distribution not in ("normal", "uniform"):
            raise ValueError(f"latent_distribution must be 'normal' or 'uniform', got {latent_distribution!r}.")

        self.generator = generator
        self.discriminator = discriminator
        self.keep_average("generator")
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.regularizers = list(regularizers or [])
        self.generator_regularizers = nn.ModuleList(generator_regularizers or [])
        self._lazy = {
            "discriminator": lazy_interval_of(self.regularizers, "discriminator"),
            "generator": lazy_interval_of(self.generator_regularizers, "generator"),
        }
        self.augment = augment
        self.n_critic = n_critic
        self.real_batches = real_batches
        self.latent_dim: int = generator.latent_dim
        self.latent_distribution = latent_distribution
        self.sample_seed = sample_seed
        self._critic_chunks = 1  # real batches per loader batch (set in setup)
        self._recent_real: tuple[Tensor, Tensor | None] | None = None  # for held-out diagnostics

        seeded = torch.Generator().manual_seed(sample_seed)
        self.register_buffer("fixed_latent", self._draw_latent(num_fixed, seeded))
        num_classes = getattr(generator, "num_classes", 0)
        fixed_labels = torch.arange(num_fixed) % num_classes if num_classes else torch.zeros(0, dtype=torch.long)
        self.register_buffer("fixed_labels", fixed_labels)

    # ------------------------------------------------------------------ declarations
    def role_modules(self) -> dict[str, list[nn.Module]]:
        return {"generator": [self.generator], "discriminator": [self.discriminator]}

    def lazy_interval(self, role: str) -> int | None:
        return self._lazy[role]

    def setup(self, stage: str) -> None:
        """Besides the base's set-up: ask the data module for ``n_critic`` real batches per
        iteration when the critic takes fresh batches."""
        super().setup(stage)
        self._critic_chunks = 1
        if stage != "fit" or self.real_batches != "fresh" or self.n_critic == 1:
            return
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is not None and hasattr(datamodule, "batches_per_step"):
            datamodule.batches_per_step = self.n_critic
            self._critic_chunks = self.n_critic
        else:
            rank_zero_warn(
                f"real_batches='fresh' needs a data module with a `batches_per_step` attribute (every "
                f"gan_lightning data module has one); {type(datamodule).__name__} has none, so the critic reuses "
                "each real batch for its n_critic updates. Set real_batches='reuse' to silence this."
            )

    # ------------------------------------------------------------------ sampling
    def _draw_latent(
        self, num: int, generator: torch.Generator | None = None, device: Any = None, truncation: float | None = None
    ) -> Tensor:
        draw = truncated_uniform if self.latent_distribution == "uniform" else truncated_normal
        return draw((num, self.latent_dim), truncation, generator=generator, device=device)

    def sample_latent(
        self, num: int, generator: torch.Generator | None = None, truncation: float | None = None
    ) -> Tensor:
        """Fresh noise ``z`` for ``num`` samples on this module's device (drawn from
        ``generator`` if given: reproducible evaluation sets), every entry within
        ``±truncation`` when given (the truncation trick, :mod:`gan_lightning.sampling.truncation`)."""
        if generator is None:
            return self._draw_latent(num, device=self.device, truncation=truncation)
        return self._draw_latent(num, generator, device=generator.device, truncation=truncation).to(self.device)

    def sample_labels(self, num: int, generator: torch.Generator | None = None) -> Tensor | None:
        """Uniform class labels for a conditional generator, ``None`` otherwise."""
        num_classes = getattr(self.generator, "num_classes", 0)
        if not num_classes:
            return None
        device = generator.device if generator is not None else self.device
        return torch.randint(num_classes, (num,), generator=generator, device=device).to(self.device)

    def generate(
        self, latent: Tensor, labels: Tensor | None = None, use_ema: bool = True, seed: int | None = None
    ) -> Tensor:
        """Samples from given noise (and labels), in eval mode, without gradients.

        Never touches the training RNG streams: noise inputs (StyleGAN) and dropout draw from
        a fork, seeded with ``seed`` when given.
        """
        network = self.sampling_generator if use_ema else self.generator
        with looking_only(network):
            if seed is not None:
                torch.manual_seed(seed)
            return conditional_call(network, latent.to(self.device), None if labels is None else labels.to(self.device))

    def sample(
        self,
        num: int,
        labels: Tensor | None = None,
        use_ema: bool = True,
        generator: torch.Generator | None = None,
        truncation: float | None = None,
    ) -> Tensor:
        """``num`` fresh samples (labels drawn uniformly if the generator is conditional), from
        noise truncated to ``±truncation`` when given."""
        if labels is None:
            labels = self.sample_labels(num, generator)
        return self.generate(self.sample_latent(num, generator, truncation), labels, use_ema=use_ema)

    def sample_fixed(self) -> Tensor:
        """Samples from the fixed latent batch: the same z and noise inputs every call."""
        labels = self.fixed_labels if self.fixed_labels.numel() else None
        return self.generate(self.fixed_latent, labels, seed=self.sample_seed)

    def forward(self, latent: Tensor, labels: Tensor | None = None) -> Tensor:
        return conditional_call(self.sampling_generator, latent, labels)

    # ------------------------------------------------------------------ building blocks of the phases
    def score(self, samples: Tensor, labels: Tensor | None) -> Tensor:
        """D's raw scores on ``samples``, through the augmentation if one is set."""
        if self.augment is not None:
            samples = self.augment(samples)
        return conditional_call(self.discriminator, samples, labels)

    def fake_batch(self, num: int, labels: Tensor | None = None) -> FakeBatch:
        """``num`` samples of the raw generator (gradients flow unless under ``no_grad``);
        a conditional generator gets ``labels`` (the real batch's) or uniform ones."""
        if labels is None or not is_conditional(self.generator):
            labels = self.sample_labels(num)
        latent = self.sample_latent(num)
        return FakeBatch(conditional_call(self.generator, latent, labels), latent, labels)

    def critic_batches(self, real: Tensor, labels: Tensor | None) -> Iterator[tuple[Tensor, Tensor | None]]:
        """The real batch of each of the ``n_critic`` updates."""
        if self._critic_chunks == 1:
            for _ in range(self.n_critic):
                yield real, labels
            return
        label_chunks = labels.chunk(self._critic_chunks) if labels is not None else [None] * self._critic_chunks
        yield from zip(real.chunk(self._critic_chunks), label_chunks, strict=True)

    def discriminator_terms(self, real: Tensor, labels: Tensor | None, fake: FakeBatch) -> dict[str, Tensor]:
        """Extra weighted loss terms of D main, by name (AC-GAN's class loss); none here."""
        return {}

    def generator_terms(self, fake: FakeBatch) -> dict[str, Tensor]:
        """Extra weighted loss terms of G main, by name; none here."""
        return {}

    def _regularize_discriminator(
        self, regularizers: list[Regularizer], real: Tensor, labels: Tensor | None, fake: FakeBatch
    ) -> tuple[Tensor, dict[str, Tensor]]:
        batch = DiscriminatorBatch(discriminator=lambda x: self.score(x, labels), real=real, fake=fake.images)
        return apply_regularizers(regularizers, batch, real.new_zeros(()))

    def _regularize_generator(
        self, regularizers: Iterable[GeneratorRegularizer], latent: Tensor, labels: Tensor | None, images: Any
    ) -> tuple[Tensor, dict[str, Tensor]]:
        batch = GeneratorBatch(
            generator=self.generator,
            generate=lambda z: conditional_call(self.generator, z, labels),
            latent=latent,
            labels=labels,
            images=images,
            generate_with=lambda z, y: conditional_call(self.generator, z, y),
        )
        return apply_regularizers(regularizers, batch, latent.new_zeros(()))

    # ------------------------------------------------------------------ the phases
    def discriminator_main(
        self, real: Tensor, labels: Tensor | None, fake: FakeBatch, d_step: int
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D's adversarial loss on a real batch and a fake batch, plus the regularizers
        applied on every update (``interval == 1``)."""
        if fake.images.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"The generator makes samples of shape {tuple(fake.images.shape[1:])} but the data has shape "
                f"{tuple(real.shape[1:])}: make the generator's image_size/channels (or data_shape) match the data."
            )
        real_logits = self.score(real, labels)
        fake_logits = self.score(fake.images, fake.labels)
        observe_discriminator(self.augment, self.objective, real_logits.detach(), fake_logits.detach())  # ADA r_t
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        stats = {
            "d_loss": loss.detach(),
            "D(x)": self.objective.readout(real_logits.detach()).mean(),
            "D(G(z))": self.objective.readout(fake_logits.detach()).mean(),
        }
        every_step = [reg for reg in self.regularizers if reg.interval == 1]
        if every_step:
            penalty, penalty_stats = self._regularize_discriminator(every_step, real, labels, fake)
            loss, stats = loss + penalty, {**stats, **penalty_stats}
        for name, term in self.discriminator_terms(real, labels, fake).items():
            loss, stats[name] = loss + term, term.detach()
        return loss, stats

    def discriminator_regularization(
        self, real: Tensor, labels: Tensor | None, fake: FakeBatch, d_step: int
    ) -> tuple[Tensor, dict[str, Tensor]] | None:
        """D reg: the lazy regularizers due at this D update, or ``None``."""
        due = [reg for reg in self.regularizers if reg.interval > 1 and reg.is_due(d_step)]
        return self._regularize_discriminator(due, real, labels, fake) if due else None

    def generator_main(self, real: Tensor, labels: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
        """G's loss through a frozen D on a fresh fake batch, plus G's every-step regularizers."""
        fake = self.fake_batch(real.shape[0], labels)
        fake_logits = self.score(fake.images, fake.labels)
        real_logits = self.score(real, labels) if self.objective.generator_needs_real else None
        loss = self.objective.generator_loss(fake_logits, real_logits)
        stats = {"g_loss": loss.detach()}
        every_step = [reg for reg in self.generator_regularizers if reg.interval == 1]
        if every_step:
            penalty, penalty_stats = self._regularize_generator(every_step, fake.latent, fake.labels, fake.images)
            loss, stats = loss + penalty, {**stats, **penalty_stats}
        for name, term in self.generator_terms(fake).items():
            loss, stats[name] = loss + term, term.detach()
        return loss, stats

    def generator_regularization(self, batch_size: int, g_step: int) -> tuple[Tensor, dict[str, Tensor]] | None:
        """G reg: the lazy generator regularizers due at this iteration, or ``None``."""
        due = [reg for reg in self.generator_regularizers if reg.interval > 1 and reg.is_due(g_step)]
        if not due:
            return None
        labels = self.sample_labels(batch_size)
        return self._regularize_generator(due, self.sample_latent(batch_size), labels, None)

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        real, labels = split_batch(batch)
        iteration = self.global_step
        set_iteration(self.augment, iteration)  # annealed instance noise and other scheduled augmentations
        stats: dict[str, Tensor] = {}

        with self.training_role("discriminator"):
            for k, (real_k, labels_k) in enumerate(self.critic_batches(real, labels)):
                d_step = iteration * self.n_critic + k
                with torch.no_grad():
                    fake = self.fake_batch(real_k.shape[0], labels_k)
                loss, d_stats = self.discriminator_main(real_k, labels_k, fake, d_step)
                self.step("discriminator", loss, log_gradients=k == self.n_critic - 1)
                regularization = self.discriminator_regularization(real_k, labels_k, fake, d_step)
                if regularization is not None:
                    self.step("discriminator", regularization[0], log_gradients=False)
                    stats.update(regularization[1])
                self.objective.after_discriminator_step(self.discriminator)
                stats.update(d_stats)

        with self.training_role("generator"):
            loss, g_stats = self.generator_main(real_k, labels_k)
            self.step("generator", loss)
            regularization = self.generator_regularization(real_k.shape[0], iteration)
            if regularization is not None:
                self.step("generator", regularization[0], log_gradients=False, ends_iteration=False)
                stats.update(regularization[1])
        stats.update(g_stats)

        self._recent_real = (real_k.detach(), None if labels_k is None else labels_k.detach())
        stats["d_steps"] = torch.tensor(float((iteration + 1) * self.n_critic))
        stats.update(self._augment_stats())
        self.end_iteration(real_k.shape[0], stats)
        self.log_progress(real_k.shape[0], d_loss=stats["d_loss"], g_loss=stats["g_loss"])
        return stats

    def _augment_stats(self) -> dict[str, Tensor]:
        if self.augment is None:
            return {}
        return {
            name: value
            for module in self.augment.modules()
            if callable(getattr(module, "stats", None))
            for name, value in module.stats().items()
        }

    # ------------------------------------------------------------------ held-out diagnostics
    def held_out_diagnostics(self, batch: Batch, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """D on held-out real data against raw-G samples, scored exactly as in training (D's
        training mode, the augmentation, the raw generator), and D(x) on the latest training
        batch the same way: a D that rates training data far above held-out data is
        overfitting (Karras et al. 2020, ADA Sec. 2.2). Logged as ``val/D(x)``,
        ``val/D(x_train)`` and ``val/D(x)_gap`` (train − held-out). Nothing is changed:
        buffers, modes and RNG streams are restored afterwards."""
        real, labels = split_batch(batch)
        with looking_only(self.generator, self.discriminator, self.augment, train_mode=True):
            fake = self.fake_batch(real.shape[0], labels)
            real_logits = self.score(real, labels)
            fake_logits = self.score(fake.images, fake.labels)
            scores = {
                "d_loss": self.objective.discriminator_loss(real_logits, fake_logits),
                "D(x)": self.objective.readout(real_logits).mean(),
                "D(G(z))": self.objective.readout(fake_logits).mean(),
            }
            if self._recent_real is not None:
                train_real, train_labels = self._recent_real
                scores["D(x_train)"] = self.objective.readout(self.score(train_real, train_labels)).mean()
                scores["D(x)_gap"] = scores["D(x_train)"] - scores["D(x)"]
        return scores

    def predict_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Treats each batch's size as a request for that many samples."""
        real, labels = split_batch(batch)
        return self.sample(real.shape[0], labels if is_conditional(self.generator) else None)
