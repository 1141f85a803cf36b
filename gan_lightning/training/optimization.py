"""How a task's roles are optimized: one argument, declared once for every task.

A task has *roles* (``generator``, ``discriminator``), each a set of networks with one
optimizer. :class:`Optimization` holds, per role, the optimizer, its LR schedule and the
gradient-norm limit, plus the weight averaging (EMA) of the sampling networks. Every task
takes it as ``optimization``, so a YAML reads the same whatever the task::

    optimization:
      generator:
        optimizer: {class_path: torch.optim.Adam, init_args: {lr: 4.0e-4, betas: [0.5, 0.9]}}
      discriminator:
        optimizer: {class_path: torch.optim.Adam, init_args: {lr: 4.0e-4, betas: [0.5, 0.9]}}
        clip_norm: 1.0
      ema_kimg: 10

and a flag reads ``--model.init_args.optimization.discriminator.optimizer.init_args.lr=1e-4``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]


def default_optimizer(parameters: Iterable[nn.Parameter]) -> Optimizer:
    """Adam(lr=2e-4, betas=(0.5, 0.999)): the DCGAN paper's setting (Radford et al. 2016)."""
    return torch.optim.Adam(parameters, lr=2e-4, betas=(0.5, 0.999))


@dataclass(frozen=True)
class RoleOptimization:
    """How one role's networks are updated.

    Args:
        optimizer: factory ``params -> Optimizer`` (``class_path: torch.optim.Adam`` in YAML);
            ``null``: Adam(2e-4, (0.5, 0.999)), the DCGAN setting.
        scheduler: factory ``optimizer -> LRScheduler``, stepped once per iteration, so
            ``total_iters: ${trainer.max_steps}`` spans the run; ``null``: a constant LR.
        clip_norm: limit of the role's total gradient norm; ``null``: no clipping. Lightning's
            ``gradient_clip_val`` does not apply under manual optimization.
    """

    optimizer: OptimizerFactory | None = None
    scheduler: SchedulerFactory | None = None
    clip_norm: float | None = None

    def __post_init__(self) -> None:
        if self.clip_norm is not None and self.clip_norm <= 0:
            raise ValueError(f"clip_norm must be positive or null, got {self.clip_norm}.")

    def build_optimizer(self, parameters: Iterable[nn.Parameter]) -> Optimizer:
        return (self.optimizer or default_optimizer)(parameters)


@dataclass(frozen=True)
class Optimization:
    """Per-role optimization and the averaging of the sampling networks.

    Args:
        generator: the generator role's optimizer, schedule and clipping.
        discriminator: the discriminator role's.
        ema_kimg: half-life of the weight averages in thousands of images; samples, strips and
            metrics use the averages. ``null``: no averaging.
        ema_rampup: while fewer than ``ema_kimg / ema_rampup`` thousand images were seen, the
            half-life is ``ema_rampup`` × images seen, so early averages follow the network
            instead of its random initialisation (``null``: no ramp-up).
    """

    generator: RoleOptimization = field(default_factory=RoleOptimization)
    discriminator: RoleOptimization = field(default_factory=RoleOptimization)
    ema_kimg: float | None = 10.0
    ema_rampup: float | None = 0.05

    def __post_init__(self) -> None:
        if self.ema_kimg is not None and self.ema_kimg <= 0:
            raise ValueError(
                f"ema_kimg must be positive (a half-life in thousands of images) or null, got {self.ema_kimg}."
            )
        if self.ema_rampup is not None and self.ema_rampup <= 0:
            raise ValueError(f"ema_rampup must be positive or null, got {self.ema_rampup}.")

    def of(self, role: str) -> RoleOptimization:
        """The settings of ``role`` (a task's roles are ``generator`` and ``discriminator``)."""
        if role not in ("generator", "discriminator"):
            raise ValueError(f"Unknown role {role!r}: a task's roles are 'generator' and 'discriminator'.")
        return getattr(self, role)


#: The default of noise → image GANs: Adam(2e-4, (0.5, 0.999)) for both roles, EMA half-life 10 kimg.
DEFAULT_OPTIMIZATION = Optimization()
#: The default of tasks whose papers keep no average of G (pix2pix, CycleGAN, SRGAN, ...).
WITHOUT_EMA = Optimization(ema_kimg=None)


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
