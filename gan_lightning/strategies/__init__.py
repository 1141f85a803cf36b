"""Distributed strategies for adversarial training (registered as ``gan_ddp``, ``gan_ddp_spawn``)."""

from gan_lightning.strategies.gan_ddp import GANDDPStrategy, average_gradients, broadcast_buffers, use_gan_ddp

__all__ = ["GANDDPStrategy", "average_gradients", "broadcast_buffers", "use_gan_ddp"]
