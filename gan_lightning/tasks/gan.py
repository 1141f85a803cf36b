"""The GAN training module: one generator, one discriminator, alternating updates.

One *training iteration* (one ``training_step``, one batch) is ``n_critic`` discriminator
updates followed by one generator update. ``trainer.global_step`` -- and so
``max_steps``, ``val_check_interval`` in steps, checkpoint intervals and LR schedules --
counts **iterations (generator updates)**, not every optimizer step as Lightning would
under manual optimization (pytorch-lightning#17958). Discriminator updates are logged as
``train/d_steps``.

Phases, in order, each readable on its own: :meth:`discriminator_phase`,
:meth:`generator_phase`, then the EMA update and the LR schedulers.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from gan_lightning.augment.base import observe_real_logits, set_iteration
from gan_lightning.checkpoint import TrainingRandomState, check_state_dict_fits, use_atomic_checkpoints
from gan_lightning.metrics import GenerativeMetrics
from gan_lightning.networks.base import conditional_call, is_conditional
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.regularizers import DiscriminatorBatch, Regularizer
from gan_lightning.strategies import use_gan_ddp
from gan_lightning.tasks.ema import ema_decay_at, update_ema

# Lightning warns that step-interval checkpoints under manual optimization hold the state
# *after* the optimizer steps. For a GAN that is the point: a checkpoint at iteration N is the
# state after N complete iterations, which is what exact resume restores.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization and every_n_train_steps")

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]
Batch = Tensor | Sequence[Tensor]


def default_optimizer(parameters: Iterable[nn.Parameter]) -> Optimizer:
    """Adam(lr=2e-4, betas=(0.5, 0.999)): the DCGAN paper's setting (Radford et al. 2016)."""
    return torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999))


def split_batch(batch: Batch) -> tuple[Tensor, Tensor | None]:
    """``(samples, labels)`` from a batch that is a tensor or an (x, y, ...) sequence."""
    if isinstance(batch, Tensor):
        return batch, None
    if isinstance(batch, Sequence) and batch and isinstance(batch[0], Tensor):
        labels = batch[1] if len(batch) > 1 and isinstance(batch[1], Tensor) else None
        return batch[0], labels
    raise TypeError(f"A GAN batch must be a tensor of samples or a (samples, labels) pair, got {type(batch).__name__}.")


@contextmanager
def _not_counted_as_global_step(optimizer: LightningOptimizer) -> Iterator[None]:
    """Run ``optimizer.step()`` without Lightning counting it in ``global_step``.

    Under manual optimization Lightning injects step-counting callbacks into each
    LightningOptimizer for the duration of a training step; silencing them for the
    discriminator makes ``global_step`` count generator updates. The step itself still goes
    through the strategy and precision plugin (AMP scaler, DDP gradient sync).
    """
    before, after = optimizer._on_before_step, optimizer._on_after_step
    optimizer._on_before_step = optimizer._on_after_step = lambda: None
    try:
        yield
    finally:
        optimizer._on_before_step, optimizer._on_after_step = before, after


class GAN(LightningModule):
    """Adversarial training of ``generator`` against ``discriminator``.

    Args:
        generator: maps ``z`` (B, latent_dim) to samples; must expose ``latent_dim``.
        discriminator: maps samples to raw scores of shape (B,).
        objective: how scores become losses (:mod:`gan_lightning.objectives`).
        regularizers: penalties added to the discriminator loss, e.g. ``GradientPenalty``.
        augment: applied to real *and* fake samples before D (DiffAugment, instance noise);
            must be differentiable so G learns through it.
        n_critic: discriminator updates per generator update (WGAN: 5).
        generator_optimizer / discriminator_optimizer: factories ``params -> Optimizer``
            (``class_path: torch.optim.Adam`` in YAML). Default: Adam(2e-4, (0.5, 0.999)).
        generator_scheduler / discriminator_scheduler: factories ``optimizer -> LRScheduler``,
            stepped once per iteration, so ``total_iters: ${trainer.max_steps}`` spans the run.
        generator_clip_norm / discriminator_clip_norm: clip each network's gradient norm
            (Lightning's ``gradient_clip_val`` does not apply under manual optimization).
        ema_decay: decay of the generator's moving average; ``None`` disables it. Samples
            and metrics use the average when it exists.
        ema_warmup: ramp the decay up at the start (see :func:`ema_decay_at`).
        latent_distribution: ``normal`` or ``uniform`` on [-1, 1].
        num_fixed_samples: size of the fixed latent batch used for sample grids.
        sample_seed: seed of that fixed batch, so grids are comparable across epochs and runs.
        metrics: sample-quality metrics computed at each validation from the sampling
            generator (FID, mode coverage, ...; :class:`~gan_lightning.metrics.GenerativeMetrics`),
            logged as ``val/<name>``.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        objective: AdversarialObjective | None = None,
        regularizers: list[Regularizer] | None = None,
        augment: nn.Module | None = None,
        n_critic: int = 1,
        generator_optimizer: OptimizerFactory | None = None,
        discriminator_optimizer: OptimizerFactory | None = None,
        generator_scheduler: SchedulerFactory | None = None,
        discriminator_scheduler: SchedulerFactory | None = None,
        generator_clip_norm: float | None = None,
        discriminator_clip_norm: float | None = None,
        ema_decay: float | None = 0.999,
        ema_warmup: bool = True,
        latent_distribution: Literal["normal", "uniform"] = "normal",
        num_fixed_samples: int = 64,
        sample_seed: int = 0,
        metrics: GenerativeMetrics | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.save_hyperparameters(
            ignore=[
                "generator",
                "discriminator",
                "objective",
                "regularizers",
                "augment",
                "generator_optimizer",
                "discriminator_optimizer",
                "generator_scheduler",
                "discriminator_scheduler",
                "metrics",
            ]
        )
        if not hasattr(generator, "latent_dim"):
            raise ValueError(
                f"The generator ({type(generator).__name__}) must expose `latent_dim` (the size of z) "
                "so the module can sample noise for it."
            )
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1 (discriminator updates per generator update), got {n_critic}.")
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) or null to disable the EMA, got {ema_decay}.")
        if num_fixed_samples < 1:
            raise ValueError(f"num_fixed_samples must be >= 1, got {num_fixed_samples}.")
        for name, value in (
            ("generator_clip_norm", generator_clip_norm),
            ("discriminator_clip_norm", discriminator_clip_norm),
        ):
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or null, got {value}.")

        self.generator = generator
        self.discriminator = discriminator
        self.generator_ema = copy.deepcopy(generator).requires_grad_(False) if ema_decay is not None else None
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.regularizers = list(regularizers or [])
        self.augment = augment
        self.n_critic = n_critic
        self.metrics = metrics
        self.latent_dim: int = generator.latent_dim
        self.latent_distribution = latent_distribution
        self.ema_decay = ema_decay
        self.ema_warmup = ema_warmup
        self.clip_norms = {"generator": generator_clip_norm, "discriminator": discriminator_clip_norm}
        self._last_critic_update = True
        self._optimizer_factories = {
            "generator": generator_optimizer or default_optimizer,
            "discriminator": discriminator_optimizer or default_optimizer,
        }
        self._scheduler_factories = {"generator": generator_scheduler, "discriminator": discriminator_scheduler}

        seeded = torch.Generator().manual_seed(sample_seed)
        self.register_buffer("fixed_latent", self._draw_latent(num_fixed_samples, seeded))
        num_classes = getattr(generator, "num_classes", 0)
        fixed_labels = (
            torch.arange(num_fixed_samples) % num_classes if num_classes else torch.zeros(0, dtype=torch.long)
        )
        self.register_buffer("fixed_labels", fixed_labels)

    # ------------------------------------------------------------------ trainer set-up
    def setup(self, stage: str) -> None:
        """Runs before the strategy wraps the model: plain ``strategy="ddp"`` becomes
        GANDDPStrategy, and checkpoints are written atomically."""
        use_gan_ddp(self.trainer)
        use_atomic_checkpoints(self.trainer)

    def configure_callbacks(self) -> list[Any]:
        """RNG streams go into checkpoints so a resumed run equals an uninterrupted one."""
        return [TrainingRandomState()]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A checkpoint of another architecture fails with the differing tensors named. Names
        are checked only when resuming (``load_from_checkpoint`` may pass ``strict=False``)."""
        check_state_dict_fits(self, checkpoint, check_names=self._trainer is not None and self.strict_loading)

    # ------------------------------------------------------------------ sampling
    def _draw_latent(self, num: int, generator: torch.Generator | None = None, device: Any = None) -> Tensor:
        if self.latent_distribution == "normal":
            return torch.randn(num, self.latent_dim, generator=generator, device=device)
        if self.latent_distribution == "uniform":
            return torch.rand(num, self.latent_dim, generator=generator, device=device) * 2.0 - 1.0
        raise ValueError(f"latent_distribution must be 'normal' or 'uniform', got {self.latent_distribution!r}.")

    def sample_latent(self, num: int, generator: torch.Generator | None = None) -> Tensor:
        """Fresh noise ``z`` for ``num`` samples on this module's device (drawn from
        ``generator`` if given: reproducible evaluation sets)."""
        if generator is None:
            return self._draw_latent(num, device=self.device)
        return self._draw_latent(num, generator, device=generator.device).to(self.device)

    def sample_labels(self, num: int, generator: torch.Generator | None = None) -> Tensor | None:
        """Uniform class labels for a conditional generator, ``None`` otherwise."""
        num_classes = getattr(self.generator, "num_classes", 0)
        if not num_classes:
            return None
        device = generator.device if generator is not None else self.device
        return torch.randint(num_classes, (num,), generator=generator, device=device).to(self.device)

    @property
    def sampling_generator(self) -> nn.Module:
        """The network that makes samples for grids and metrics: the EMA if there is one."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def generate(self, latent: Tensor, labels: Tensor | None = None, use_ema: bool = True) -> Tensor:
        """Samples from given noise (and labels), in eval mode, without gradients."""
        network = self.sampling_generator if use_ema else self.generator
        was_training = network.training
        network.eval()
        try:
            return conditional_call(network, latent.to(self.device), None if labels is None else labels.to(self.device))
        finally:
            network.train(was_training)

    def sample(
        self, num: int, labels: Tensor | None = None, use_ema: bool = True, generator: torch.Generator | None = None
    ) -> Tensor:
        """``num`` fresh samples (labels drawn uniformly if the generator is conditional)."""
        if generator is None:
            labels = self.sample_labels(num) if labels is None else labels
            return self.generate(self.sample_latent(num), labels, use_ema=use_ema)
        if labels is None:
            labels = self.sample_labels(num, generator)
        return self.generate(self.sample_latent(num, generator), labels, use_ema=use_ema)

    def sample_fixed(self) -> Tensor:
        """Samples from the fixed latent batch: the same z every call, for comparable grids."""
        labels = self.fixed_labels if self.fixed_labels.numel() else None
        return self.generate(self.fixed_latent, labels)

    def forward(self, latent: Tensor, labels: Tensor | None = None) -> Tensor:
        return conditional_call(self.sampling_generator, latent, labels)

    # ------------------------------------------------------------------ phases
    def _score(self, samples: Tensor, labels: Tensor | None) -> Tensor:
        """D's raw scores on ``samples``, through the augmentation if one is set."""
        if self.augment is not None:
            samples = self.augment(samples)
        return conditional_call(self.discriminator, samples, labels)

    def _fake_batch(self, num: int, labels: Tensor | None) -> tuple[Tensor, Tensor | None]:
        if labels is None or not is_conditional(self.generator):
            labels = self.sample_labels(num)
        return conditional_call(self.generator, self.sample_latent(num), labels), labels

    def discriminator_phase(self, real: Tensor, labels: Tensor | None, step: int) -> tuple[Tensor, dict[str, Tensor]]:
        """D's loss on one real batch and one fresh fake batch (G frozen, no graph into G)."""
        with torch.no_grad():
            fake, fake_labels = self._fake_batch(real.shape[0], labels)
        if fake.shape[1:] != real.shape[1:]:
            raise ValueError(
                f"The generator makes samples of shape {tuple(fake.shape[1:])} but the data has shape "
                f"{tuple(real.shape[1:])}: make the generator's image_size/channels (or data_shape) match the data."
            )
        real_logits = self._score(real, labels)
        fake_logits = self._score(fake, fake_labels)
        observe_real_logits(self.augment, real_logits.detach())  # after both: real and fake see the same p
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        stats = {
            "d_loss": loss.detach(),
            "D(x)": self.objective.readout(real_logits.detach()).mean(),
            "D(G(z))": self.objective.readout(fake_logits.detach()).mean(),
        }
        due = [reg for reg in self.regularizers if reg.is_due(step)]
        if due:
            batch = DiscriminatorBatch(discriminator=lambda x: self._score(x, labels), real=real, fake=fake)
            for regularizer in due:
                term, value = regularizer(batch)
                loss = loss + term
                stats[regularizer.name] = value
        return loss, stats

    def generator_phase(self, real: Tensor, labels: Tensor | None) -> tuple[Tensor, dict[str, Tensor]]:
        """G's loss through a frozen D on a fresh fake batch."""
        fake, fake_labels = self._fake_batch(real.shape[0], labels)
        fake_logits = self._score(fake, fake_labels)
        real_logits = self._score(real, labels) if self.objective.generator_needs_real else None
        loss = self.objective.generator_loss(fake_logits, real_logits)
        return loss, {"g_loss": loss.detach()}

    def _update(self, optimizer: LightningOptimizer, loss: Tensor) -> None:
        """backward + step, then release the gradients: the other phase must not see (or
        hold memory for) this network's stale gradients."""
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        real, labels = split_batch(batch)
        opt_g, opt_d = self.optimizers()
        iteration = self.global_step
        set_iteration(self.augment, iteration)  # annealed instance noise and other scheduled augmentations

        self.toggle_optimizer(opt_d)
        for critic_step in range(self.n_critic):
            self._last_critic_update = critic_step == self.n_critic - 1
            d_loss, d_stats = self.discriminator_phase(real, labels, step=iteration * self.n_critic + critic_step)
            with _not_counted_as_global_step(opt_d):
                self._update(opt_d, d_loss)
            self.objective.after_discriminator_step(self.discriminator)
        self.untoggle_optimizer(opt_d)

        self.toggle_optimizer(opt_g)
        g_loss, g_stats = self.generator_phase(real, labels)
        self._update(opt_g, g_loss)
        self.untoggle_optimizer(opt_g)

        if self.generator_ema is not None:
            update_ema(self.generator_ema, self.generator, ema_decay_at(iteration, self.ema_decay, self.ema_warmup))
        for scheduler in self._schedulers():
            scheduler.step()

        stats = {**d_stats, **g_stats, "d_steps": torch.tensor(float((iteration + 1) * self.n_critic))}
        self.log_dict({f"train/{k}": v for k, v in stats.items()}, prog_bar=False, batch_size=real.shape[0])
        self.log_dict(
            {"d_loss": stats["d_loss"], "g_loss": stats["g_loss"]},
            prog_bar=True,
            logger=False,
            batch_size=real.shape[0],
        )
        return stats

    # ------------------------------------------------------------------ gradients
    def _role_of(self, optimizer: Optimizer) -> str:
        generator_optimizer = self.optimizers(use_pl_optimizer=False)[0]
        return "generator" if optimizer is generator_optimizer else "discriminator"

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        """Log each network's gradient norm and clip it; gradients are already unscaled
        by the AMP scaler and synchronised across ranks at this point."""
        role = self._role_of(optimizer)
        limit = self.clip_norms[role]
        # Only the last critic update's statistics survive in the log, so earlier ones skip
        # the norm unless clipping needs it: logging must not cost a share of the iteration.
        log_now = role == "generator" or self._last_critic_update
        if limit is None and not log_now:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        if limit is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, limit)
        if log_now:
            self.log(f"train/grad_norm_{role[0]}", norm, batch_size=1)
            self.log(f"train/lr_{role[0]}", float(optimizer.param_groups[0]["lr"]), batch_size=1)

    # ------------------------------------------------------------------ validation
    def _held_out_scores(self, batch: Batch, prefix: str) -> Tensor:
        """D's loss and mean outputs on held-out real data against fresh samples: a D that
        separates training data far better than held-out data is overfitting (Karras et al.
        2020, ADA Sec. 2.2). Returns the real samples."""
        real, labels = split_batch(batch)
        size = real.shape[0]
        fake_labels = self.sample_labels(size)
        fake = self.sample(size, labels=fake_labels)
        real_logits = conditional_call(self.discriminator, real, labels)
        fake_logits = conditional_call(self.discriminator, fake, fake_labels)
        scores = {
            "d_loss": self.objective.discriminator_loss(real_logits, fake_logits),
            "D(x)": self.objective.readout(real_logits).mean(),
            "D(G(z))": self.objective.readout(fake_logits).mean(),
        }
        self.log_dict({f"{prefix}/{k}": v for k, v in scores.items()}, batch_size=size, sync_dist=True)
        return real

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        real = self._held_out_scores(batch, "val")
        if self.metrics is not None:
            self.metrics.on_validation_batch(self, real)

    def on_validation_epoch_end(self) -> None:
        """Sample-quality metrics (every rank computes; the states sync across processes)."""
        if self.metrics is not None:
            results = self.metrics.on_validation_epoch_end(self)
            self.log_dict({f"val/{name}": value for name, value in results.items()}, sync_dist=True)

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._held_out_scores(batch, "test")

    def predict_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Treats each batch's size as a request for that many samples."""
        real, labels = split_batch(batch)
        return self.sample(real.shape[0], labels if is_conditional(self.generator) else None)

    # ------------------------------------------------------------------ optimizers
    def _schedulers(self) -> list[Any]:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return []
        return schedulers if isinstance(schedulers, list) else [schedulers]

    def configure_optimizers(self) -> Any:
        optimizers = [
            self._optimizer_factories["generator"](self.generator.parameters()),
            self._optimizer_factories["discriminator"](self.discriminator.parameters()),
        ]
        schedulers = []
        for role, optimizer in zip(("generator", "discriminator"), optimizers, strict=True):
            factory = self._scheduler_factories[role]
            if factory is None:
                continue
            scheduler = factory(optimizer)
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{role}_scheduler: ReduceLROnPlateau needs a monitored metric and GAN losses are not "
                    "one to minimise; use a step-based schedule (LinearLR, CosineAnnealingLR, ...)."
                )
            schedulers.append(scheduler)
        return (optimizers, schedulers) if schedulers else optimizers

    def num_parameters(self) -> dict[str, int]:
        """Trainable parameter counts per network (for logs and the README's tables)."""
        return {
            "generator": sum(p.numel() for p in self.generator.parameters()),
            "discriminator": sum(p.numel() for p in self.discriminator.parameters()),
        }
