"""What every adversarial task shares, whatever its networks and losses.

A task names its *roles* (``generator``, ``discriminator``: each a set of networks with one
optimizer) and writes its training step as a sequence of named phases, each ending in
``self.step(role, loss)``. Everything else is a part passed in or owned here, once:

* ``optimization`` (:class:`~gan_lightning.training.Optimization`): per role the optimizer,
  LR schedule and clip norm, and the EMA half-life -- one argument for every task;
* ``compile``: the training phases through ``torch.compile`` (each role's networks compiled
  in place when fitting starts; double-backward penalties and held-out evaluation eager);
* ``metrics``: what scores held-out batches (:class:`~gan_lightning.metrics.TaskMetrics`);
  the task only says what it produces on one (:meth:`AdversarialTask.held_out_outputs`);
* the capabilities commands and callbacks call -- :meth:`~AdversarialTask.sample_fixed`,
  :meth:`~AdversarialTask.sample`, :meth:`~AdversarialTask.translate`,
  :meth:`~AdversarialTask.sample_captions`, :meth:`~AdversarialTask.classify` -- declared here, so a task that lacks one
  answers with a one-line :class:`~gan_lightning.errors.CapabilityError`;
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
import inspect
import types
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ReduceLROnPlateau

from gan_lightning.batch import batch_size_of
from gan_lightning.checkpoint import TrainingRandomState, check_state_dict_fits, use_atomic_checkpoints
from gan_lightning.errors import CapabilityError
from gan_lightning.metrics.base import TaskMetrics, as_metric_list
from gan_lightning.regularizers import eager_networks
from gan_lightning.seams import attached_trainer, logs_this_iteration, step_uncounted
from gan_lightning.strategies import use_gan_ddp
from gan_lightning.training.compiled import compile_backend, compile_networks
from gan_lightning.training.ema import ema_beta, update_ema
from gan_lightning.training.optimization import Optimization, correct_for_lazy_regularization

# Lightning warns that step-interval checkpoints under manual optimization hold the state
# *after* the optimizer steps. For a GAN that is the point: a checkpoint at iteration N is the
# state after N complete iterations, which is what exact resume restores.
warnings.filterwarnings("ignore", message="Using ModelCheckpoint with manual optimization and every_n_train_steps")


def is_plain(value: Any) -> bool:
    """Numbers, strings, ``None`` and lists/dicts of them: what a hyper-parameter file can hold."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list | tuple):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and is_plain(item) for key, item in value.items())
    return False


def plain_init_arguments(frame: types.FrameType | None, task: type) -> dict[str, Any]:
    """The plain-valued init arguments of every ``__init__`` on the stack from ``frame`` out
    (the task's own and its bases'): saved once, by the base, for every task. An argument left
    at a default of ``None`` (an unset network or loss) is not saved: loading gets it anyway."""
    arguments: dict[str, Any] = {}
    while frame is not None and frame.f_code.co_name == "__init__" and isinstance(frame.f_locals.get("self"), task):
        info = inspect.getargvalues(frame)
        defaults = init_defaults(task, frame.f_code)
        local = {name: info.locals[name] for name in info.args if name != "self"}
        if info.keywords:
            local.update(info.locals[info.keywords])
        local = {name: value for name, value in local.items() if not (value is None and defaults.get(name, 0) is None)}
        arguments = {**arguments, **local}  # frames run base → subclass: the most specific wins
        frame = frame.f_back
    return {name: value for name, value in arguments.items() if is_plain(value) and not name.startswith("_")}


def init_defaults(task: type, code: types.CodeType) -> dict[str, Any]:
    """The default values of the ``__init__`` (of ``task`` or a base) whose code is ``code``."""
    for klass in task.__mro__:
        init = klass.__dict__.get("__init__")
        if getattr(init, "__code__", None) is code:
            return {name: p.default for name, p in inspect.signature(init).parameters.items()}
    return {}


#: What a task may offer beyond training, each a method of :class:`AdversarialTask`.
CAPABILITIES = frozenset({"sample", "translate", "sample_captions", "classify"})


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
        optimization: per role the optimizer, LR schedule and gradient-norm limit, and the
            half-life of the weight averages (:class:`~gan_lightning.training.Optimization`).
        metrics: what scores held-out batches at each validation (and test): one
            :class:`~gan_lightning.metrics.TaskMetrics` or a list; logged as ``val/<name>``.
        compile: run the training phases through ``torch.compile`` (``true``: its default
            backend, inductor; a string: another backend). Each role's networks are compiled in
            place when fitting starts, so parameters, ``state_dict`` keys, checkpoints and the
            weight averages are those of the eager run; double-backward penalties and
            held-out evaluation run the eager forward (:mod:`gan_lightning.training.compiled`).

    Init arguments that are plain values (numbers, strings, lists of them) are saved as
    hyper-parameters; networks, losses, factories and metrics are not (they live in the run's
    ``config.yaml`` and the checkpoint's weights).
    """

    #: The role whose optimizer step ends an iteration (counted in ``global_step``).
    iteration_role: ClassVar[str] = "generator"
    #: Images per row of :meth:`sample_fixed`'s grid (``None``: a square grid). A strip task
    #: (source | output | target) sets its strip length so each row is one example.
    preview_nrow: ClassVar[int | None] = None
    #: Whether :meth:`sample` and :meth:`sample_fixed` return clips (B, C, T, H, W), written
    #: as GIFs and film strips, instead of images.
    makes_clips: ClassVar[bool] = False

    def __init__(
        self,
        optimization: Optimization | None = None,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.optimization = optimization if optimization is not None else Optimization()
        self.metrics = as_metric_list(metrics)
        self.compile_backend = compile_backend(compile)
        self._averaged: list[str] = []
        self._pending_step: _PendingStep | None = None
        self._log_this_iteration = True
        self._progress_shown = True
        self.save_hyperparameters(plain_init_arguments(inspect.currentframe().f_back, type(self)))

    @property
    def ema_kimg(self) -> float | None:
        return self.optimization.ema_kimg

    @property
    def ema_rampup(self) -> float | None:
        return self.optimization.ema_rampup

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

    # ------------------------------------------------------------------ capabilities
    def offers(self, capability: str) -> bool:
        """Whether this task implements ``capability`` (``sample``, ``translate``,
        ``sample_captions``, ``classify``): what commands and the end-of-run summary ask before calling it."""
        if capability not in CAPABILITIES:
            raise ValueError(f"Unknown capability {capability!r}; tasks declare {sorted(CAPABILITIES)}.")
        return getattr(type(self), capability) is not getattr(AdversarialTask, capability)

    def sample_fixed(self) -> Tensor:
        """What the sample grids show: the same inputs every call (fixed noise, the first
        held-out sources), laid out :attr:`preview_nrow` per row. Every task has one."""
        raise CapabilityError(f"{type(self).__name__} does not implement sample_fixed(), so no grid can be drawn.")

    def sample(self, num: int, **kwargs: Any) -> Tensor:
        """``num`` samples of the sampling networks from fresh noise (``gan-lightning sample``)."""
        raise CapabilityError(
            f"{type(self).__name__} does not draw samples from noise; use `gan-lightning translate` for "
            "image-to-image tasks."
        )

    def translate(self, images: Tensor, direction: str | None = None, **kwargs: Any) -> Tensor:
        """Outputs for input images (``gan-lightning translate``): image-to-image tasks."""
        raise CapabilityError(
            f"{type(self).__name__} does not translate images (only image-to-image tasks do: Pix2Pix, CycleGAN, "
            "SRGAN); use `gan-lightning sample`."
        )

    def sample_captions(self, captions: list[str], per_caption: int, **kwargs: Any) -> Tensor:
        """``per_caption`` images for each caption (``gan-lightning sample --prompt``)."""
        raise CapabilityError(
            f"--prompt needs a text-to-image model (TextToImage); this checkpoint holds a {type(self).__name__}, "
            "which does not read text."
        )

    def classify(self, images: Tensor) -> Tensor:
        """Class logits (B, K) for images (``gan-lightning evaluate``'s held-out accuracy): tasks
        whose discriminator is a classifier (the semi-supervised GAN)."""
        raise CapabilityError(f"{type(self).__name__} has no classifier; train a SemiSupervisedGAN to classify images.")

    # ------------------------------------------------------------------ held-out evaluation
    def held_out_outputs(self, batch: Any, batch_idx: int) -> dict[str, Tensor]:
        """What the task makes from one held-out batch, for :attr:`metrics` to score
        (a translation of its sources, images for its captions ...). Nothing by default."""
        return {}

    def held_out_diagnostics(self, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """The task's own held-out numbers (D's scores, losses), beside :attr:`metrics`'."""
        return {}

    def evaluate_batch(self, batch: Any, batch_idx: int, prefix: str) -> None:
        """Log the task's diagnostics and every metric's per-batch scores as ``<prefix>/<name>``
        (eager networks: evaluation would only add graphs to compile)."""
        with eager_networks():
            outputs = self.held_out_outputs(batch, batch_idx)
            scores = dict(self.held_out_diagnostics(batch, outputs))
            for metric in self.metrics:
                scores.update(metric.update(self, batch, outputs))
        if scores:
            self.log_dict(
                {f"{prefix}/{k}": v for k, v in scores.items()}, batch_size=batch_size_of(batch), sync_dist=True
            )

    def evaluate_epoch(self, prefix: str) -> None:
        """Every metric's whole-set scores (FID ...): every rank computes, the states sync."""
        scores: dict[str, Any] = {}
        with eager_networks():
            for metric in self.metrics:
                scores.update(metric.compute(self))
        if scores:
            self.log_dict({f"{prefix}/{k}": v for k, v in scores.items()}, sync_dist=True)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.evaluate_batch(batch, batch_idx, "val")

    def on_validation_epoch_end(self) -> None:
        self.evaluate_epoch("val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self.evaluate_batch(batch, batch_idx, "test")

    def on_test_epoch_end(self) -> None:
        self.evaluate_epoch("test")

    # ------------------------------------------------------------------ trainer set-up
    def setup(self, stage: str) -> None:
        """Runs before the strategy sets the model up. For a Trainer built in Python with a
        ``DDPStrategy`` object or a plain checkpoint IO: the strategy becomes GANDDPStrategy
        and checkpoints are written atomically (strategy names and the CLI's defaults choose
        both without this). With ``compile``, fitting compiles each role's networks."""
        use_gan_ddp(self.trainer)
        use_atomic_checkpoints(self.trainer)
        if stage == "fit" and self.compile_backend is not None:
            compile_networks(self.compiled_networks(), self.compile_backend)

    def compiled_networks(self) -> list[nn.Module]:
        """What ``compile`` compiles: every network a role's optimizer trains."""
        return [module for modules in self.role_modules().values() for module in modules]

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
            settings = self.optimization.of(role)
            optimizer = settings.build_optimizer(parameters)
            interval = self.lazy_interval(role)
            if interval is not None and interval > 1:
                correct_for_lazy_regularization(optimizer, interval)
            optimizers.append(optimizer)
            if settings.scheduler is None:
                continue
            scheduler = settings.scheduler(optimizer)
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"optimization.{role}.scheduler: ReduceLROnPlateau needs a monitored metric and GAN losses are not "
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
        limit = self.optimization.of(pending.role).clip_norm
        log = pending.log and self.logs_this_iteration()
        if limit is None and not log:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        if limit is None:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        else:
            norm = torch.nn.utils.clip_grad_norm_(params, limit)
        if log:
            self.log(f"train/grad_norm_{pending.role[0]}", norm, batch_size=1)
            self.log(f"train/lr_{pending.role[0]}", float(optimizer.param_groups[0]["lr"]), batch_size=1)

    # ------------------------------------------------------------------ end of an iteration
    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        trainer = attached_trainer(self)
        self._log_this_iteration = trainer is None or logs_this_iteration(trainer)
        self._progress_shown = trainer is None or trainer.progress_bar_callback is not None

    def logs_this_iteration(self) -> bool:
        """Whether this iteration's training values reach the loggers (every
        ``log_every_n_steps``-th and the last, :func:`~gan_lightning.seams.logs_this_iteration`):
        on the others, logging them, and the gradient norms computed only to be logged, is work
        Lightning throws away — a tenth of a DCGAN iteration on a CPU."""
        trainer = attached_trainer(self)
        return self._log_this_iteration or (trainer is not None and trainer.should_stop)

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
        schedulers = self._schedulers()
        if schedulers:
            with warnings.catch_warnings():
                # A role that sits out a phase (SRGAN's D in the MSE warm-up) still steps its schedule,
                # since milestones count iterations: torch's "scheduler before optimizer" notice is noise.
                warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before")
                for scheduler in schedulers:
                    scheduler.step()
        if self.logs_this_iteration():
            self.log_dict({f"train/{k}": v for k, v in stats.items()}, batch_size=batch_size)

    def log_progress(self, batch_size: int, **values: Tensor) -> None:
        """Values shown in the progress bar only (the logger gets them as ``train/*``). Without a
        progress bar nothing reads them between logging iterations, so they are logged only on
        those (``callback_metrics`` still ends with the last iteration's): each ``self.log`` is
        half a millisecond of Lightning's bookkeeping, 1.5 % of a DCGAN iteration on a CPU."""
        if self._progress_shown or self.logs_this_iteration():
            self.log_dict(values, prog_bar=True, logger=False, batch_size=batch_size)

    def num_parameters(self) -> dict[str, int]:
        """Trainable parameter counts per role (for logs and the README's tables)."""
        return {
            role: sum(p.numel() for module in modules for p in module.parameters())
            for role, modules in self.role_modules().items()
        }
