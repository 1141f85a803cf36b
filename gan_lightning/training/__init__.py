"""The machinery of adversarial training that every task shares, apart from any one task:
per-role optimization, compiled networks, weight averages, the image replay buffer, and running a model
without changing it."""

from gan_lightning.training.compiled import compile_backend, compile_networks
from gan_lightning.training.ema import ema_beta, update_ema
from gan_lightning.training.image_pool import ImagePool
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import (
    DEFAULT_OPTIMIZATION,
    WITHOUT_EMA,
    Optimization,
    OptimizerFactory,
    RoleOptimization,
    SchedulerFactory,
    correct_for_lazy_regularization,
    default_optimizer,
)

__all__ = [
    "DEFAULT_OPTIMIZATION",
    "WITHOUT_EMA",
    "ImagePool",
    "Optimization",
    "OptimizerFactory",
    "RoleOptimization",
    "SchedulerFactory",
    "compile_backend",
    "compile_networks",
    "correct_for_lazy_regularization",
    "default_optimizer",
    "ema_beta",
    "looking_only",
    "update_ema",
]
