"""What every adversarial task shares, whatever its networks and losses.

A task names its *roles* (``generator``, ``discriminator``: each a set of networks with one
optimizer) and writes its training step as a sequence of named phases, each ending in
``self.step(role, loss)``. This base owns the rest, once:

* manual optimization with one optimizer (and optional LR scheduler) per role, stepped
  through Lightning's strategy and precision plugin (AMP scaler, :class:`GANDDPStrategy`);
* ``trainer.global_step`` counting *iterations* (updates of :attr:`iteration_role`), not
  every optimizer step (pytorch-lightning#17958);
* per-role gradient clipping and gradient-norm logging, after AMP unscaling and the DDP
  all-reduce (the one Lightning seam: ``on_before_optimizer_step``);
* the optimizer correction for lazily regularized roles (Karras et al. 2020, StyleGAN2
  Appendix B: lr and Adam betas scaled by ``interval / (interval + 1)``);
* exponential moving averages of any network, specified as a half-life in images
  (``ema_kimg``, with ``ema_rampup``) so they do not depend on batch size or GPU count;
* exact resume (RNG streams in checkpoints), atomic checkpoints, architecture checks, and
  an RNG fork for anything that only *looks* at the model.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau

from gan_lightning.checkpoint import TrainingRandomState, check_state_dict_fits, use_atomic_checkpoints
from gan_lightning.seams import attached_trainer, step_uncounted
from gan_lightning.strategies import use_gan_ddp
from gan_lightning.tasks.ema import ema_beta, update_ema

# Lightning warns that step-interval checkpoints under manual optimization hold the state
# *after* the optimizer steps. For a GAN that is the point: a checkpoint at iteration N is the
# state after N complete iterations, which is what exact resume restores.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization and every_n_train_steps")

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]


def default_optimizer(parameters: Iterable[nn.Parameter]) -> Optimizer:
    """Adam(lr=2e-4, betas=(0.5, 0.999)): the DCGAN paper's setting (Radford et al. 2016)."""
    return torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999))


def correct_for_lazy_regularization(optimizer: Optimizer, interval: int) -> None:
    """Scale lr by ``c = interval / (interval + 1)`` and Adam's betas to ``beta ** c``.

    A lazily regularized network takes ``interval + 1`` optimizer steps per ``interval``
    minibatches (its regularization phase is a step of its own); this keeps the effective
    learning rate and momentum horizon of the main loss unchanged (StyleGAN2, Appendix B;
    stylegan2-ada-pytorch ``training_loop.py``, ``mb_ratio``).
    """
    ratio = interval / (interval + 1)
    for group in optimizer.param_groups:
        group["lr"] = group["lr"] * ratio
        if "initial_lr" in group:
            group["initial_lr"] = group["initial_lr"] * ratio
        if "betas" in group:
            group["betas"] = tuple(beta**ratio for beta in group["betas"])


@contextmanager
def looking_only(*modules: nn.Module | None, train_mode: bool = False) -> Iterator[None]:
    """Use ``modules`` without changing them or the training RNG streams.

    Everything that only looks at the model (sample grids, held-out diagnostics, strips)
    runs inside: the global RNG is forked (noise inputs, dropout, augmentation draw from a
    copy), buffers (BatchNorm statistics, ADA's p, ``w_avg``) are restored afterwards, and
    each module's train/eval mode is put back. ``train_mode`` runs them as in training.
    """
    present = [m for m in modules if m is not None]
    modes = [[(child, child.training) for child in m.modules()] for m in present]
    buffers = [[b.detach().clone() for b in m.buffers()] for m in present]
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and torch.cuda.is_initialized() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            for m in present:
                m.train(train_mode)
            yield
    finally:
        for m, saved in zip(present, buffers, strict=True):
            for buffer, value in zip(m.buffers(), saved, strict=True):
                buffer.copy_(value)
        for children in modes:
            for child, training in children:
                child.training = training


@dataclass
class _PendingStep:
    role: str
    log: bool


class AdversarialTask(LightningModule):
    """Base of every adversarial task (:class:`~gan_lightning.tasks.GAN`, pix2pix, CycleGAN, SRGAN ...).

    A subclass calls ``super().__init__(...)``, assigns its networks, calls
    :meth:`keep_average` for each network whose EMA it samples from, implements
    :meth:`role_modules` and writes ``training_step`` as named phases::

        with self.training_role("discriminator"):
            loss, stats = self.discriminator_main(...)
            self.step("discriminator", loss)
        with self.training_role("generator"):
            ...
        self.end_iteration(batch_size, stats)

    Args:
        optimizers: per role, a factory ``params -> Optimizer`` (default: Adam(2e-4, (0.5, 0.999))).
        schedulers: per role, a factory ``optimizer -> LRScheduler``, stepped once per iteration.
        clip_norms: per role, the gradient-norm limit (``None``: no clipping). Lightning's
            ``gradient_clip_val`` does not apply under manual optimization.
        ema_kimg: half-life of the weight averages in thousands of images (``None``: no EMA).
        ema_rampup: while fewer than ``ema_kimg / ema_rampup`` thousand images were seen, the
            half-life is ``ema_rampup`` × images seen, so early averages follow the network
            instead of its random initialisation (``None``: no ramp-up).
    """

    #: The role whose optimizer step ends an iteration (counted in ``global_step``).
    iteration_role: str = "generator"

    def __init__(
        self,
        optimizers: Mapping[str, OptimizerFactory | None] | None = None,
        schedulers: Mapping[str, SchedulerFactory | None] | None = None,
        clip_norms: Mapping[str, float | None] | None = None,
        ema_kimg: float | None = 10.0,
        ema_rampup: float | None = 0.05,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        for role, value in (clip_norms or {}).items():
            if value is not None and value <= 0:
                raise ValueError(f"{role}_clip_norm must be positive or null, got {value}.")
        if ema_kimg is not None and ema_kimg <= 0:
            raise ValueError(f"ema_kimg must be positive (a half-life in thousands of images) or null, got {ema_kimg}.")
        if ema_rampup is not None and ema_rampup <= 0:
            raise ValueError(f"ema_rampup must be positive or null, got {ema_rampup}.")
        self._optimizer_factories = dict(optimizers or {})
        self._scheduler_factories = dict(schedulers or {})
        self.clip_norms = dict(clip_norms or {})
        self.ema_kimg = ema_kimg
        self.ema_rampup = ema_rampup
        self._averaged: list[str] = []
        self._pending_step: _PendingStep | None = None

    # ------------------------------------------------------------------ what a task declares
    def role_modules(self) -> dict[str, list[nn.Module]]:
        """The networks each role's optimizer trains, in optimizer order."""
        raise NotImplementedError

    def lazy_interval(self, role: str) -> int | None:
        """The interval of the role's lazily applied regularizers (``None``: none)."""
        return None

    def keep_average(self, name: str) -> nn.Module | None:
        """Register ``<name>_ema``, a frozen copy of the network ``name`` that
        :meth:`end_iteration` moves towards it (nothing when ``ema_kimg`` is ``None``)."""
        if self.ema_kimg is None:
            setattr(self, f"{name}_ema", None)
            return None
        average = copy.deepcopy(getattr(self, name)).requires_grad_(False)
        setattr(self, f"{name}_ema", average)
        self._averaged.append(name)
        return average

    def averaged(self, name: str) -> nn.Module:
        """The network ``name`` as samples, strips and metrics use it: its moving average if
        :meth:`keep_average` keeps one, else the network itself."""
        average = getattr(self, f"{name}_ema", None)
        return average if average is not None else getattr(self, name)

    @property
    def sampling_generator(self) -> nn.Module:
        """``averaged("generator")``, for tasks with one generator."""
        return self.averaged("generator")

    # ------------------------------------------------------------------ trainer set-up
    def setup(self, stage: str) -> None:
        """Runs before the strategy sets the model up. For a Trainer built in Python with a
        ``DDPStrategy`` object or a plain checkpoint IO: the strategy becomes GANDDPStrategy
        and checkpoints are written atomically (strategy names and the CLI's defaults choose
        both without this)."""
        use_gan_ddp(self.trainer)
        use_atomic_checkpoints(self.trainer)

    def configure_callbacks(self) -> list[Any]:
        """RNG streams go into checkpoints so a resumed run equals an uninterrupted one."""
        return [TrainingRandomState()]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """A checkpoint of another architecture fails with the differing tensors named. Names
        are checked only when resuming (``load_from_checkpoint`` may pass ``strict=False``)."""
        check_state_dict_fits(self, checkpoint, check_names=attached_trainer(self) is not None and self.strict_loading)

    # ------------------------------------------------------------------ optimizers
    def _roles(self) -> list[str]:
        return list(self.role_modules())

    def configure_optimizers(self) -> Any:
        optimizers, schedulers = [], []
        for role, modules in self.role_modules().items():
            parameters = [p for module in modules for p in module.parameters()]
            optimizer = (self._optimizer_factories.get(role) or default_optimizer)(parameters)
            interval = self.lazy_interval(role)
            if interval is not None and interval > 1:
                correct_for_lazy_regularization(optimizer, interval)
            optimizers.append(optimizer)
            factory = self._scheduler_factories.get(role)
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

    def optimizer_of(self, role: str) -> LightningOptimizer:
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        return optimizers[self._roles().index(role)]

    def _schedulers(self) -> list[Any]:
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return []
        return schedulers if isinstance(schedulers, list) else [schedulers]

    # ------------------------------------------------------------------ one update
    @contextmanager
    def training_role(self, role: str) -> Iterator[None]:
        """Only ``role``'s parameters require gradients inside (``toggle_optimizer``)."""
        optimizer = self.optimizer_of(role)
        self.toggle_optimizer(optimizer)
        try:
            yield
        finally:
            self.untoggle_optimizer(optimizer)

    def step(self, role: str, loss: Tensor, log_gradients: bool = True, ends_iteration: bool | None = None) -> None:
        """backward + one optimizer step of ``role``, then release the gradients: the other
        phases must not see (or hold memory for) this network's stale gradients.

        ``log_gradients=False`` skips the gradient norm (unless clipping needs it) for an
        update whose logged value would be overwritten anyway. ``ends_iteration`` (default:
        whether ``role`` is the :attr:`iteration_role`) decides if ``global_step`` counts it;
        a lazy regularization step of the iteration role passes ``False``.
        """
        optimizer = self.optimizer_of(role)
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        self._pending_step = _PendingStep(role, log_gradients)
        try:
            if ends_iteration if ends_iteration is not None else role == self.iteration_role:
                optimizer.step()
            else:
                step_uncounted(self, optimizer)
        finally:
            self._pending_step = None
        optimizer.zero_grad(set_to_none=True)

    def on_before_optimizer_step(self, optimizer: Optimizer) -> None:
        """Clip and log the role's gradient norm: here gradients are already unscaled by the
        AMP scaler and averaged across ranks."""
        pending = self._pending_step
        if pending is None:
            return
        limit = self.clip_norms.get(pending.role)
        if limit is None and not pending.log:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        if limit is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, limit)
        if pending.log:
            self.log(f"train/grad_norm_{pending.role[0]}", norm, batch_size=1)
            self.log(f"train/lr_{pending.role[0]}", float(optimizer.param_groups[0]["lr"]), batch_size=1)

    # ------------------------------------------------------------------ end of an iteration
    def images_per_iteration(self, batch_size: int) -> int:
        """Images the iteration role saw this iteration, over all processes."""
        trainer = attached_trainer(self)
        return batch_size * (trainer.world_size if trainer is not None else 1)

    def end_iteration(self, batch_size: int, stats: Mapping[str, Tensor]) -> None:
        """Move the averages, step the schedulers and log ``stats`` as ``train/<key>``."""
        if self._averaged:
            images = self.images_per_iteration(batch_size)
            beta = ema_beta(images * (self.global_step), images, self.ema_kimg, self.ema_rampup)
            for name in self._averaged:
                update_ema(getattr(self, f"{name}_ema"), getattr(self, name), beta)
        for scheduler in self._schedulers():
            scheduler.step()
        self.log_dict({f"train/{k}": v for k, v in stats.items()}, batch_size=batch_size)

    def log_progress(self, batch_size: int, **values: Tensor) -> None:
        """Values shown in the progress bar only (the logger gets them as ``train/*``)."""
        self.log_dict(values, prog_bar=True, logger=False, batch_size=batch_size)

    def num_parameters(self) -> dict[str, int]:
        """Trainable parameter counts per role (for logs and the README's tables)."""
        return {
            role: sum(p.numel() for module in modules for p in module.parameters())
            for role, modules in self.role_modules().items()
        }
