"""The task-base refactor changes no behaviour: a few iterations of several GAN recipes
give bit-identical generator and discriminator weights to the ones recorded before it.

``tests/fixtures/behaviour_lock.json`` was written by this file's :func:`train_and_hash` on the
code *before* ``gan_lightning.tasks`` was split into a task base and its tasks (same
machine kind, torch 2.14.1, one thread). The critic reuses its real batch (the
pre-refactor behaviour, ``real_batches="reuse"``) and the EMA, which does not feed back
into training, is off.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import pytest
import torch

from gan_lightning.augment import DiffAugment, InstanceNoise
from gan_lightning.data import Digits8x8DataModule
from gan_lightning.networks import LabelConcatGenerator, MLPDiscriminator, MLPGenerator
from gan_lightning.objectives import HingeLoss, LeastSquaresLoss, MinimaxLoss, NonSaturatingLoss, WassersteinLoss
from gan_lightning.regularizers import GradientPenalty, R1Penalty
from gan_lightning.tasks import GAN
from tests.conftest import FIXTURES, with_optimization

LOCK_FILE = FIXTURES / "behaviour_lock.json"
SHAPE = (1, 8, 8)


def _networks(conditional: bool = False) -> dict[str, Any]:
    generator = MLPGenerator(data_shape=SHAPE, latent_dim=8, hidden_dims=(32,))
    if conditional:
        generator = LabelConcatGenerator(generator, num_classes=10, embedding_dim=4)
    return {"generator": generator, "discriminator": MLPDiscriminator(data_shape=SHAPE, hidden_dims=(32,))}


def _adam(betas: tuple[float, float]) -> Callable[..., torch.optim.Optimizer]:
    return lambda params: torch.optim.Adam(params, lr=1e-3, betas=betas)


RECIPES: dict[str, Callable[[], dict[str, Any]]] = {
    "wgan_gp": lambda: {
        "objective": WassersteinLoss(),
        "regularizers": [GradientPenalty(weight=10.0)],
        "n_critic": 3,
        "generator_optimizer": _adam((0.5, 0.9)),
        "discriminator_optimizer": _adam((0.5, 0.9)),
    },
    "wgan_clip": lambda: {
        "objective": WassersteinLoss(clip_value=0.01),
        "n_critic": 2,
        "generator_optimizer": lambda p: torch.optim.RMSprop(p, lr=5e-4),
        "discriminator_optimizer": lambda p: torch.optim.RMSprop(p, lr=5e-4),
    },
    "ns_r1_diffaugment": lambda: {
        "objective": NonSaturatingLoss(),
        "regularizers": [R1Penalty(weight=1.0)],
        "augment": DiffAugment(policy=["color", "translation"]),
    },
    "hinge_clip_norms_schedulers": lambda: {
        "objective": HingeLoss(),
        "generator_clip_norm": 1.0,
        "discriminator_clip_norm": 0.5,
        "generator_scheduler": lambda opt: torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=6),
        "discriminator_scheduler": lambda opt: torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.1, total_iters=6),
    },
    "minimax_instance_noise": lambda: {
        "objective": MinimaxLoss(),
        "augment": InstanceNoise(std=0.2, anneal_steps=4),
        "n_critic": 2,
    },
    "lsgan_conditional": lambda: {"objective": LeastSquaresLoss(), "conditional": True},
}


def train_and_hash(recipe: str, iterations: int = 6) -> dict[str, Any]:
    torch.set_num_threads(1)
    pl.seed_everything(0)
    kwargs = RECIPES[recipe]()
    conditional = kwargs.pop("conditional", False)
    kwargs = with_optimization({**kwargs, "ema_kimg": None})
    model = GAN(**_networks(conditional), **kwargs, real_batches="reuse", num_fixed=4)
    data = Digits8x8DataModule(batch_size=16, val_size=1797 - 64)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=iterations,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=data)
    digest = hashlib.sha256()
    total = 0.0
    for network in (model.generator, model.discriminator):
        for name, tensor in network.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
            total += float(tensor.double().sum())
    return {"sha256": digest.hexdigest(), "sum": total}


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_weights_match_the_pre_refactor_code(recipe: str) -> None:
    expected = json.loads(LOCK_FILE.read_text())[recipe]
    got = train_and_hash(recipe)
    if got["sha256"] == expected["sha256"]:
        return  # bit-identical: the machine kind that wrote the lock
    # Another CPU kind: vectorised exp/sin (instance noise, DiffAugment) round differently in
    # the last bits, so the weights can only agree to float32 precision, not bit for bit. A
    # behaviour change moves the sum by far more than this.
    assert got["sum"] == pytest.approx(expected["sum"], rel=1e-6), "weights drifted: the behaviour changed"


if __name__ == "__main__":  # python tests/test_behaviour_lock.py  -> (re)writes the lock from the current code
    LOCK_FILE.write_text(json.dumps({name: train_and_hash(name) for name in sorted(RECIPES)}, indent=2) + "\n")
