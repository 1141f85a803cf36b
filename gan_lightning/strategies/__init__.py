"""Distributed strategies for adversarial training: :class:`GANDDPStrategy`, registered as
``gan_ddp`` and as Lightning's ``ddp``, ``ddp_spawn``, ``ddp_fork`` and ``ddp_notebook``."""

from gan_lightning.strategies.gan_ddp import (
    GANDDPStrategy,
    average_gradients,
    broadcast_buffers,
    broadcast_module,
    broadcast_tensors,
    close_process_group,
    register_gan_ddp,
    use_gan_ddp,
)

__all__ = [
    "GANDDPStrategy",
    "average_gradients",
    "broadcast_buffers",
    "broadcast_module",
    "broadcast_tensors",
    "close_process_group",
    "register_gan_ddp",
    "use_gan_ddp",
]
