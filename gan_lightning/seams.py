"""Where gan-lightning meets the inside of Lightning, torch and torchmetrics: the one module
to read when one of them is upgraded. Their private names belong here and nowhere else.

Two kinds of code live here:

* **Public helpers** for what used to be done through private attributes:
  :func:`attached_trainer` (instead of ``module._trainer``), :func:`step_uncounted`
  (instead of silencing ``LightningOptimizer._on_before_step/_on_after_step``) and
  :func:`logs_this_iteration` (Lightning's logging cadence, read from its epoch loop).
* **Seams**, where no public API serves. Distributed training and the CLI:
  :func:`ddp_options`, :func:`retype_strategy`, :func:`ddp_ignored_names`,
  :class:`CheckpointHyperparametersSeam`. Checkpoint callbacks, networks, metrics and
  loggers: :func:`last_saved_step`, :func:`save_last_checkpoint`,
  :class:`TopKCheckpointSeam`, :func:`refresh_spectral_norm`,
  :func:`inception_features_and_logits`, :func:`wandb_init_arguments`. Each docstring says
  what it relies on and why nothing public does the job; ``tests/test_seams.py`` checks each
  against the installed Lightning, torch and torchmetrics and names their versions when one
  breaks.
"""

from __future__ import annotations

from typing import Any

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.strategies import DDPStrategy
from torch import Tensor, nn

# ---------------------------------------------------------------------------- public helpers


def attached_trainer(module: LightningModule) -> Trainer | None:
    """The :class:`Trainer` ``module`` is attached to, or ``None`` (built by hand, loaded with
    ``load_from_checkpoint``, or run under Fabric). ``module.trainer`` raises when detached."""
    try:
        trainer = module.trainer
    except RuntimeError:
        return None
    return trainer if isinstance(trainer, Trainer) else None


def logs_this_iteration(trainer: Trainer) -> bool:
    """Whether Lightning hands this iteration's ``self.log`` values to the loggers: every
    ``log_every_n_steps``-th batch, and when the run stops (its last iteration by ``max_steps``
    or ``max_epochs``, an early stop, a preemption). Each logged value costs milliseconds of
    Python on a CPU; values logged on the other iterations are dropped, so a task skips them. Lightning's own
    test is ``_LoggerConnector.should_update_logs``, built on the private batch counter of the
    epoch loop, which this reads too; the end of the run is ours (Lightning sets ``should_stop``
    only after the last batch)."""
    loop = trainer.fit_loop
    if trainer.log_every_n_steps and (loop.epoch_loop._batches_that_stepped + 1) % trainer.log_every_n_steps == 0:
        return True
    last_by_steps = trainer.max_steps is not None and 0 < trainer.max_steps <= trainer.global_step + 1
    last_by_epochs = (
        trainer.max_epochs is not None
        and trainer.max_epochs > 0
        and trainer.current_epoch + 1 >= trainer.max_epochs
        and loop.epoch_loop.batch_progress.is_last_batch
    )
    return trainer.should_stop or last_by_steps or last_by_epochs


def _no_closure() -> None:
    """The closure ``LightningOptimizer.step()`` passes when given none: under manual
    optimization the backward pass has already run."""


def step_uncounted(module: LightningModule, optimizer: LightningOptimizer) -> Any:
    """``optimizer.step()`` that Lightning does not count in ``global_step``.

    Under manual optimization ``global_step`` counts every ``LightningOptimizer.step()``; a
    GAN's iteration is several steps (D, G, lazy regularization) and should count once
    (pytorch-lightning#17958). ``LightningOptimizer.step`` is the strategy's public
    ``optimizer_step`` between two counting hooks, so calling the strategy directly is the
    same step uncounted: the precision plugin (AMP scaler, ``on_before_optimizer_step``) and
    the strategy's gradient sync (:class:`~gan_lightning.strategies.GANDDPStrategy`) still run.
    """
    return module.trainer.strategy.optimizer_step(optimizer.optimizer, _no_closure, model=module)


# ---------------------------------------------------------------------------- seams


def ddp_options(strategy: DDPStrategy) -> dict[str, Any]:
    """The ``DistributedDataParallel`` options a :class:`DDPStrategy` was built with
    (``find_unused_parameters``, ``static_graph`` ...).

    Relies on: ``DDPStrategy._ddp_kwargs``, the ``**kwargs`` of its constructor, forwarded to
    ``DistributedDataParallel``. No public accessor exists. Needed to leave a strategy alone
    whose user asked for DistributedDataParallel explicitly (:func:`~gan_lightning.strategies.use_gan_ddp`).
    """
    return dict(strategy._ddp_kwargs)


def retype_strategy(strategy: DDPStrategy, cls: type[DDPStrategy]) -> None:
    """Make an already built ``strategy`` an instance of its subclass ``cls``, in place.

    Relies on: ``cls`` adding no state of its own (no ``__init__``, no ``__slots__``), so the
    object ``DDPStrategy.__init__`` built is a complete ``cls``; and on the Trainer holding
    that one object. The Trainer has no public way to replace its strategy, and the object
    already carries what must be kept (launcher, cluster environment, accelerator, precision,
    checkpoint IO). Used only for a ``DDPStrategy`` the user built as an object: a strategy
    *name* reaches ``cls`` through the public ``StrategyRegistry``.
    """
    if cls.__init__ is not DDPStrategy.__init__ or "__slots__" in vars(cls):
        raise TypeError(f"{cls.__name__} keeps state of its own, so a {type(strategy).__name__} cannot become one.")
    strategy.__class__ = cls


def ddp_ignored_names(module: nn.Module) -> frozenset[str]:
    """Names of the parameters and buffers DistributedDataParallel leaves alone in ``module``.

    Relies on: the ``_ddp_params_and_buffers_to_ignore`` attribute that torch's
    ``DistributedDataParallel._set_params_and_buffers_to_ignore_for_model`` writes and DDP
    reads. It is torch's only way to mark them; honouring it keeps
    :class:`~gan_lightning.strategies.GANDDPStrategy` a drop-in for DDP.
    """
    return frozenset(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))


class CheckpointHyperparametersSeam:
    """Mixin for a ``LightningCLI`` subclass: its :meth:`merge_checkpoint_hyperparameters`
    replaces Lightning's merge of a ``--ckpt_path`` checkpoint's hyper-parameters.

    Relies on: ``LightningCLI.__init__`` calling the private ``_parse_ckpt_path()`` (no
    arguments) right after ``parse_arguments`` and before ``before_instantiate_classes``.
    No public hook runs in between, and Lightning's version reads the file with a bare
    ``torch.load`` and exits on hyper-parameters that do not fit the model, so overriding
    it is the only way to give those cases a one-line error or a warning.
    """

    def merge_checkpoint_hyperparameters(self) -> None:
        raise NotImplementedError

    def _parse_ckpt_path(self) -> None:
        self.merge_checkpoint_hyperparameters()


def last_saved_step(callback: ModelCheckpoint) -> int:
    """The ``global_step`` of the checkpoint ``callback`` wrote last.

    Relies on: ``ModelCheckpoint._last_global_step_saved``. Lightning exposes the last
    file's path, not when it was written; a final ``last.ckpt`` is due only if it is stale.
    """
    return callback._last_global_step_saved


def save_last_checkpoint(callback: ModelCheckpoint, trainer: Trainer) -> None:
    """Write ``callback``'s ``last.ckpt`` now, with its naming, versioning and symlink rules.

    Relies on: ``ModelCheckpoint._save_last_checkpoint(trainer, monitor_candidates)`` and
    ``_monitor_candidates(trainer)``. Lightning saves ``last.ckpt`` only from its own triggers;
    ``trainer.save_checkpoint`` would bypass the callback's file rules and bookkeeping.
    """
    callback._save_last_checkpoint(trainer, callback._monitor_candidates(trainer))


class TopKCheckpointSeam:
    """Mixin for a ``ModelCheckpoint`` subclass: its :meth:`skips_top_k` can veto one top-k save.

    Relies on: ``ModelCheckpoint._save_topk_checkpoint(trainer, monitor_candidates)``, where
    Lightning raises (once a validation has run) when ``monitor`` was not logged; no public
    hook lies between the metrics being collected and that check.
    """

    def skips_top_k(self, monitor_candidates: dict[str, Tensor]) -> bool:
        return False

    def _save_topk_checkpoint(self, trainer: Trainer, monitor_candidates: dict[str, Tensor]) -> None:
        if not self.skips_top_k(monitor_candidates):
            super()._save_topk_checkpoint(trainer, monitor_candidates)  # type: ignore[misc]


def refresh_spectral_norm(parametrization: nn.Module, weight: Tensor, iterations: int) -> bool:
    """Re-estimate a spectral-norm parametrization's singular vectors for ``weight``, as
    wrapping a fresh layer does; ``False`` (nothing done) for another parametrization.

    Relies on: torch's ``_SpectralNorm._reshape_weight_to_matrix(weight)`` and
    ``_power_method(matrix, n_power_iterations)`` (``torch.nn.utils.parametrizations``).
    Registering the parametrization anew would be public but draws new random vectors,
    so the initialised weights would change.
    """
    if not hasattr(parametrization, "_power_method"):
        return False
    parametrization._power_method(parametrization._reshape_weight_to_matrix(weight), iterations)
    return True


def inception_features_and_logits(network: nn.Module, pixels: Tensor) -> tuple[Tensor, ...]:
    """Every feature layer a torchmetrics ``NoTrainInceptionV3`` was built with, in order.

    Relies on: ``NoTrainInceptionV3._torch_fidelity_forward(x)``. Its public ``forward``
    returns the first layer only; pool features and logits from one pass need this.
    """
    return network._torch_fidelity_forward(pixels)


def wandb_init_arguments(logger: WandbLogger) -> dict[str, Any]:
    """The keyword arguments Lightning's ``WandbLogger`` will pass to ``wandb.init``; edits
    made before the run starts apply.

    Relies on: ``WandbLogger._wandb_init``, the dict its constructor builds. Lightning adds
    keys of its own (``anonymous``) and has no public way to drop one.
    """
    return logger._wandb_init


__all__ = [
    "CheckpointHyperparametersSeam",
    "TopKCheckpointSeam",
    "attached_trainer",
    "ddp_ignored_names",
    "ddp_options",
    "inception_features_and_logits",
    "last_saved_step",
    "refresh_spectral_norm",
    "retype_strategy",
    "save_last_checkpoint",
    "step_uncounted",
    "wandb_init_arguments",
]
