"""Data-parallel training for GANs without DistributedDataParallel.

Lightning's ``DDPStrategy`` wraps the whole LightningModule in one DDP module. A GAN's
discriminator phase leaves the generator without gradients and vice versa, so plain DDP
fails ("parameters that were not used in producing the loss", pytorch-lightning #20328)
and ``find_unused_parameters=True`` pays a graph traversal on every backward.

:class:`GANDDPStrategy` does what stylegan2-ada-pytorch's training loop does instead:
parameters and buffers are broadcast from rank 0 once, and before each optimizer step the
gradients of *that optimizer's* parameters are averaged across ranks in one flat buffer.
The all-reduce happens before Lightning's precision plugin runs, so the AMP scaler's
inf/NaN check and the module's gradient-norm logging and clipping
(``on_before_optimizer_step``) see the synchronised gradients.

Averaged gradients keep the parameters identical, but not the *buffers*: BatchNorm running
statistics, StyleGAN's ``w_avg`` and the EMA generator's copies of them are updated from each
rank's own batch. Like DistributedDataParallel's default ``broadcast_buffers=True``, rank 0's
buffers are therefore broadcast after every training step (one coalesced broadcast), so
validation metrics, sample grids, checkpoints and the end of fit all see one model: the one
rank 0 saves. Validate/test/predict without training start from Lightning's own sync of
parameters and buffers (``DDPStrategy.setup``).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.overrides.distributed import _sync_module_states
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.types import STEP_OUTPUT
from torch import Tensor, nn
from torch.distributed.distributed_c10d import _get_default_group
from torch.optim import Optimizer


def average_gradients(parameters: list[nn.Parameter]) -> None:
    """Average ``.grad`` of ``parameters`` over all ranks with a single all-reduce.

    A parameter with no gradient on any rank keeps ``grad = None`` (so optimizers skip it,
    as in one process). One with a gradient on some ranks only counts as zeros where it is
    missing. Which case applies travels in the same buffer, as one extra number per tensor.
    """
    if not parameters:
        return
    world_size = dist.get_world_size()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in parameters]
    present = torch.tensor([float(p.grad is not None) for p in parameters], device=grads[0].device)
    flat = torch.cat([*(g.reshape(-1).to(grads[0].dtype) for g in grads), present.to(grads[0].dtype)])
    dist.all_reduce(flat)
    flat[: -len(parameters)].div_(world_size)
    present_anywhere = (flat[-len(parameters) :] > 0).tolist()
    offset = 0
    for index, (parameter, grad) in enumerate(zip(parameters, grads, strict=True)):
        size = grad.numel()
        synced = flat[offset : offset + size].view_as(grad).to(grad.dtype)
        offset += size
        if not present_anywhere[index]:
            continue
        if parameter.grad is None:
            parameter.grad = synced.clone()
        else:
            parameter.grad.copy_(synced)


_BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024  # what DDP and Lightning use for their broadcasts


def broadcast_buffers(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s buffers of ``module`` to every rank, in one coalesced broadcast
    (tensors of one dtype are packed into one flat buffer). Buffers DDP was told to ignore
    (``_ddp_params_and_buffers_to_ignore``) are left alone, as DDP leaves them."""
    ignored = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
    buffers = [buffer.detach() for name, buffer in module.named_buffers() if name not in ignored]
    if buffers:
        dist._broadcast_coalesced(_get_default_group(), buffers, _BROADCAST_BUCKET_BYTES, src)


def offset_seed_by_rank(rank: int) -> None:
    """Reseed torch, numpy and ``random`` with ``seed + rank`` on ranks > 0.

    ``seed_everything`` gives every rank the same seed, so every rank would draw the same
    noise and the effective batch of fakes would not grow with the number of GPUs.
    """
    if rank == 0:
        return
    seed = int(os.environ.get("PL_GLOBAL_SEED", torch.initial_seed())) + rank
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


class GANDDPStrategy(DDPStrategy):
    """DDP for modules with several optimizers over disjoint parameters (GANs).

    Same launch, cluster and sampler behaviour as ``DDPStrategy`` (torchrun, SLURM,
    ``num_nodes``); only the synchronisation differs: per-optimizer gradient all-reduce and a
    broadcast of rank 0's buffers after each training step (see the module docstring).
    ``Trainer(strategy="ddp")`` with a :class:`~gan_lightning.tasks.GAN` uses it
    automatically (:func:`use_gan_ddp`); the registry names are ``gan_ddp`` and
    ``gan_ddp_spawn``.
    """

    def setup(self, trainer: Trainer) -> None:
        super().setup(trainer)
        # after the model is synced, for fit and validate/test alike (metrics need distinct fakes per rank)
        offset_seed_by_rank(self.global_rank)

    def configure_ddp(self) -> None:
        """Broadcast rank 0's parameters and buffers instead of wrapping in DDP."""
        assert self.model is not None
        if dist.is_available() and dist.is_initialized():
            _sync_module_states(self.model)

    def optimizer_step(
        self,
        optimizer: Optimizer,
        closure: Callable[[], Any],
        model: LightningModule | nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        if dist.is_available() and dist.is_initialized():
            params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
            average_gradients(params)
        return super().optimizer_step(optimizer, closure, model, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> STEP_OUTPUT:
        """The module's training step, then rank 0's buffers to every rank: everything that
        runs after it (EMA, validation, sample grids, checkpoints) sees the same model."""
        output = super().training_step(*args, **kwargs)
        self._broadcast_buffers()
        return output

    def on_validation_end(self) -> None:
        """Validation code that runs a network in training mode (e.g. D's BatchNorm on held-out
        data) updates statistics per rank: agree again before training or fit ends."""
        super().on_validation_end()
        self._broadcast_buffers()

    def _broadcast_buffers(self) -> None:
        if self.lightning_module is not None and dist.is_available() and dist.is_initialized():
            broadcast_buffers(self.lightning_module)

    def pre_backward(self, closure_loss: Tensor) -> None:
        """Nothing to prepare: there is no DDP reducer."""


def use_gan_ddp(trainer: Trainer) -> None:
    """Turn a plain ``DDPStrategy`` (``strategy="ddp"``, ``"ddp_spawn"``, ...) into a
    :class:`GANDDPStrategy` before the model is set up.

    A strategy with explicit DDP options (e.g. ``DDPStrategy(find_unused_parameters=True)``)
    is left alone: whoever asked for DistributedDataParallel gets it. The class is swapped
    in place because the launcher, cluster environment and process group already exist.
    """
    strategy = trainer.strategy
    if type(strategy) is DDPStrategy and not strategy._ddp_kwargs:
        strategy.__class__ = GANDDPStrategy
        rank_zero_info(
            "GAN + DDP: using GANDDPStrategy (per-optimizer gradient all-reduce, no DistributedDataParallel "
            "wrapper) so each phase may leave the other network without gradients."
        )


def _register() -> None:
    for name, start_method in (("gan_ddp", "popen"), ("gan_ddp_spawn", "spawn"), ("gan_ddp_notebook", "fork")):
        if name not in StrategyRegistry:
            StrategyRegistry.register(
                name,
                GANDDPStrategy,
                description=f"DDP for GANs (per-optimizer gradient all-reduce), start_method '{start_method}'",
                start_method=start_method,
            )


_register()
