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
buffers are therefore broadcast after every training step (one flat broadcast per dtype), so
validation metrics, sample grids, checkpoints and the end of fit all see one model: the one
rank 0 saves. Validate/test/predict without training start from Lightning's own sync of
parameters and buffers (``DDPStrategy.setup``).

The strategy is chosen by name, through Lightning's public ``StrategyRegistry``: importing
gan-lightning registers ``gan_ddp`` and re-registers ``ddp``, ``ddp_spawn``, ``ddp_fork`` and
``ddp_notebook`` (with their start methods), so ``--trainer.strategy=ddp``,
``Trainer(strategy="ddp")`` and a multi-device ``"auto"`` all build it. For a module under
automatic optimization it is exactly Lightning's ``DDPStrategy`` (the backward pass runs
inside the optimizer step's closure there, after the point where gradients would be
averaged), so a classifier trained in the same process keeps DistributedDataParallel.
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
from lightning.pytorch.strategies import DDPStrategy, StrategyRegistry
from lightning.pytorch.utilities import rank_zero_info
from lightning.pytorch.utilities.types import STEP_OUTPUT
from torch import Tensor, nn
from torch.optim import Optimizer

from gan_lightning.seams import ddp_ignored_names, ddp_options, retype_strategy


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


def _buckets(tensors: list[Tensor]) -> list[list[Tensor]]:
    """Tensors grouped by device and dtype, each group cut into buckets of at most
    :data:`_BROADCAST_BUCKET_BYTES` (a larger tensor is a bucket of its own)."""
    groups: dict[tuple[torch.device, torch.dtype], list[list[Tensor]]] = {}
    filled: dict[tuple[torch.device, torch.dtype], int] = {}
    for tensor in tensors:
        key, size = (tensor.device, tensor.dtype), tensor.numel() * tensor.element_size()
        buckets = groups.setdefault(key, [[]])
        if buckets[-1] and filled[key] + size > _BROADCAST_BUCKET_BYTES:
            buckets.append([])
            filled[key] = 0
        buckets[-1].append(tensor)
        filled[key] = filled.get(key, 0) + size
    return [bucket for buckets in groups.values() for bucket in buckets]


def broadcast_tensors(tensors: list[Tensor], src: int = 0) -> None:
    """Copy rank ``src``'s values of ``tensors`` to every rank, in place: one broadcast of one
    flat buffer per dtype (and 250 MB bucket), as DDP's coalesced broadcast does, launched
    together and then awaited."""
    pending = []
    for bucket in _buckets([tensor.detach() for tensor in tensors]):
        flat = torch.cat([tensor.reshape(-1) for tensor in bucket])
        pending.append((bucket, flat, dist.broadcast(flat, src, async_op=True)))
    for bucket, flat, work in pending:
        work.wait()
        offset = 0
        for tensor in bucket:
            tensor.copy_(flat[offset : offset + tensor.numel()].view_as(tensor))
            offset += tensor.numel()


def broadcast_buffers(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s buffers of ``module`` to every rank (:func:`broadcast_tensors`).
    Buffers DDP was told to ignore are left alone, as DDP leaves them."""
    ignored = ddp_ignored_names(module)
    broadcast_tensors([buffer for name, buffer in module.named_buffers() if name not in ignored], src)


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers of ``module`` to every rank, as
    DistributedDataParallel does when it wraps a module."""
    ignored = ddp_ignored_names(module)
    tensors = [tensor for name, tensor in module.named_parameters() if name not in ignored]
    broadcast_tensors(tensors + [buffer for name, buffer in module.named_buffers() if name not in ignored], src)


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
    ``num_nodes``); for a module under manual optimization only the synchronisation
    differs: per-optimizer gradient all-reduce and a broadcast of rank 0's buffers after each
    training step (see the module docstring). Under automatic optimization it is Lightning's
    ``DDPStrategy``. Registered as ``gan_ddp``, ``gan_ddp_spawn``, ``gan_ddp_notebook`` and
    as Lightning's own ``ddp``, ``ddp_spawn``, ``ddp_fork``, ``ddp_notebook``.
    """

    @property
    def syncs_per_optimizer(self) -> bool:
        """Whether gradients are averaged per optimizer step instead of by a DDP wrapper:
        under manual optimization, where backward runs before ``optimizer.step()``."""
        module = self.lightning_module
        return module is not None and not module.automatic_optimization

    def setup(self, trainer: Trainer) -> None:
        super().setup(trainer)
        if self.syncs_per_optimizer:
            # after the model is synced, for fit and validate/test alike (metrics need distinct fakes per rank)
            offset_seed_by_rank(self.global_rank)

    def configure_ddp(self) -> None:
        """Broadcast rank 0's parameters and buffers instead of wrapping in DDP."""
        if not self.syncs_per_optimizer:
            super().configure_ddp()
            return
        assert self.model is not None
        rank_zero_info(
            "GAN + DDP: GANDDPStrategy averages each optimizer's gradients with one all-reduce (no "
            "DistributedDataParallel wrapper), so each phase may leave the other network without gradients."
        )
        if dist.is_available() and dist.is_initialized():
            broadcast_module(self.model)

    def optimizer_step(
        self,
        optimizer: Optimizer,
        closure: Callable[[], Any],
        model: LightningModule | nn.Module | None = None,
        **kwargs: Any,
    ) -> Any:
        if self.syncs_per_optimizer and dist.is_available() and dist.is_initialized():
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
        if self.syncs_per_optimizer and dist.is_available() and dist.is_initialized():
            broadcast_buffers(self.lightning_module)

    def pre_backward(self, closure_loss: Tensor) -> None:
        """Nothing to prepare when there is no DDP reducer."""
        if not self.syncs_per_optimizer:
            super().pre_backward(closure_loss)


def close_process_group() -> None:
    """Leave the process group together, while the interpreter is whole: every rank waits at a
    barrier, then destroys it. Left to interpreter exit, a rank whose peer has already gone
    can abort in gloo's worker threads ("terminate called without an active exception",
    exit status -6) after a run that succeeded. A no-op outside distributed runs."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def use_gan_ddp(trainer: Trainer) -> None:
    """Make a ``DDPStrategy`` the user built as an object (``Trainer(strategy=DDPStrategy())``)
    a :class:`GANDDPStrategy`, before the model is set up.

    Strategy *names* need no help: the registry already builds GANDDPStrategy for ``"ddp"``
    and its kin. An object is built before any GAN is in sight, so only the task's ``setup``
    can tell, and the object is retyped in place (:func:`~gan_lightning.seams.retype_strategy`).
    A ``DDPStrategy`` with DistributedDataParallel options (``find_unused_parameters=True``
    ...) is left alone: whoever asked for DistributedDataParallel gets it.
    """
    strategy = trainer.strategy
    if type(strategy) is DDPStrategy and not ddp_options(strategy):
        retype_strategy(strategy, GANDDPStrategy)


#: Lightning's DDP names (with their start methods) and ours, all built as GANDDPStrategy.
REGISTERED_NAMES = {
    "ddp": "popen",
    "ddp_spawn": "spawn",
    "ddp_fork": "fork",
    "ddp_notebook": "fork",
    "gan_ddp": "popen",
    "gan_ddp_spawn": "spawn",
    "gan_ddp_notebook": "fork",
}


def register_gan_ddp() -> None:
    """Register :class:`GANDDPStrategy` under :data:`REGISTERED_NAMES` in Lightning's
    ``StrategyRegistry`` (Lightning's ``ddp`` entries are replaced; their
    ``*_find_unused_parameters_*`` variants stay DistributedDataParallel)."""
    for name, start_method in REGISTERED_NAMES.items():
        StrategyRegistry.register(
            name,
            GANDDPStrategy,
            description=f"DDP for GANs (per-optimizer gradient all-reduce), start_method '{start_method}'",
            override=True,
            start_method=start_method,
        )


register_gan_ddp()
