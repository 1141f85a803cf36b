"""GANDDPStrategy in one process: the strategy names Lightning registers, when it is chosen,
per-optimizer gradient sync for a GAN (DistributedDataParallel for anything else), gradient
averaging, and broadcasting buffers and parameters from rank 0 for every dtype, in buckets by
dtype and size. The two-process CLI runs are in tests/test_ddp.py."""

from __future__ import annotations

import os
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.strategies import StrategyRegistry
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gan_lightning.cli import main
from gan_lightning.strategies import (
    GANDDPStrategy,
    average_gradients,
    broadcast_buffers,
    broadcast_module,
    broadcast_tensors,
    close_process_group,
    gan_ddp,
    use_gan_ddp,
)
from gan_lightning.strategies.gan_ddp import REGISTERED_NAMES
from tests.conftest import TinyData, tiny_gan


def _broadcast_in_rank(rank: int, store: str, results: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        module = nn.Module()
        module.register_buffer("statistics", torch.full((3,), float(rank)))
        module.register_buffer("count", torch.tensor(10 + rank))  # int64, as num_batches_tracked
        module.register_buffer("precise", torch.full((2, 2), rank + 0.5, dtype=torch.float64))
        module.register_buffer("own", torch.tensor([float(rank)]))
        module._ddp_params_and_buffers_to_ignore = ["own"]
        broadcast_buffers(module)
        weights = nn.Linear(2, 2)
        nn.init.constant_(weights.weight, float(rank))
        broadcast_module(weights)
        torch.save(
            {**dict(module.named_buffers()), "weight": weights.weight.detach()}, Path(results) / f"rank{rank}.pt"
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_broadcast_buffers_copies_rank_zero_for_every_dtype(tmp_path: Path):
    mp.spawn(_broadcast_in_rank, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=2)
    for rank in (0, 1):
        buffers = torch.load(tmp_path / f"rank{rank}.pt")
        assert torch.equal(buffers["statistics"], torch.zeros(3))
        assert buffers["count"].item() == 10 and buffers["count"].dtype == torch.int64
        assert torch.equal(buffers["precise"], torch.full((2, 2), 0.5, dtype=torch.float64))
        assert buffers["own"].item() == rank  # ignored, as DistributedDataParallel ignores it
        assert torch.equal(buffers["weight"], torch.zeros(2, 2))  # broadcast_module: parameters too


def test_broadcast_buckets_group_by_dtype_and_cap_their_size(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(gan_ddp, "_BROADCAST_BUCKET_BYTES", 16)
    floats = [torch.zeros(2), torch.zeros(2), torch.zeros(8), torch.zeros(1)]  # 8, 8, 32, 4 bytes
    counts = [torch.zeros((), dtype=torch.int64)]
    buckets = gan_ddp._buckets([floats[0], counts[0], *floats[1:]])
    assert [[id(t) for t in bucket] for bucket in buckets] == [
        [id(floats[0]), id(floats[1])],
        [id(floats[2])],
        [id(floats[3])],
        [id(counts[0])],
    ]


def test_broadcast_tensors_in_one_process_group_keeps_values(tmp_path: Path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        tensors = [torch.arange(6.0).reshape(2, 3).t(), torch.tensor(7), torch.ones(0)]  # non-contiguous, 0-d, empty
        expected = [t.clone() for t in tensors]
        broadcast_tensors(tensors)
        for tensor, value in zip(tensors, expected, strict=True):
            assert torch.equal(tensor, value) and tensor.dtype == value.dtype
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("name", list(REGISTERED_NAMES))
def test_strategy_names_build_gan_ddp_with_lightnings_start_method(name: str):
    trainer = pl.Trainer(accelerator="cpu", devices=1, strategy=name, logger=False)
    assert type(trainer.strategy) is GANDDPStrategy
    lightnings = type(StrategyRegistry)()
    pl.strategies.DDPStrategy.register_strategies(lightnings)
    lightning_name = name.removeprefix("gan_")
    assert StrategyRegistry[name]["init_params"] == lightnings[lightning_name]["init_params"]


def test_several_devices_choose_gan_ddp_and_explicit_ddp_options_keep_lightning_ddp():
    assert type(pl.Trainer(accelerator="cpu", devices=2, logger=False).strategy) is GANDDPStrategy
    named = pl.Trainer(accelerator="cpu", devices=1, strategy="ddp_find_unused_parameters_true", logger=False)
    assert type(named.strategy) is pl.strategies.DDPStrategy
    trainer = pl.Trainer(
        accelerator="cpu", devices=1, strategy=pl.strategies.DDPStrategy(find_unused_parameters=True), logger=False
    )
    use_gan_ddp(trainer)
    assert type(trainer.strategy) is pl.strategies.DDPStrategy


@pytest.fixture
def one_process_group():
    """For a DDP fit inside the test process: Lightning starts a process group of one (gloo)
    and sets MASTER_ADDR, LOCAL_RANK ...; both are undone afterwards."""
    environment = dict(os.environ)
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    os.environ.clear()
    os.environ.update(environment)


class _WrapperInTraining(pl.Callback):
    """Records what the strategy trains: the module itself, or a DistributedDataParallel around it."""

    wrapper: type | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.wrapper = type(trainer.strategy.model)


def test_gan_syncs_per_optimizer_and_a_classifier_keeps_distributed_data_parallel(one_process_group, tmp_path: Path):
    """One process: ``strategy="ddp"`` leaves a GAN unwrapped (per-optimizer all-reduce) but
    wraps an automatically optimized module in DistributedDataParallel, as Lightning does; a
    ``DDPStrategy`` object around a GAN becomes GANDDPStrategy in the task's setup."""
    common = {"accelerator": "cpu", "devices": 1, "max_steps": 2, "logger": False, "enable_checkpointing": False}
    common |= {"enable_progress_bar": False, "enable_model_summary": False, "limit_val_batches": 0}
    common |= {"default_root_dir": tmp_path}
    for strategy in ("ddp", pl.strategies.DDPStrategy(process_group_backend="gloo")):
        gan, recorder = tiny_gan(), _WrapperInTraining()
        trainer = pl.Trainer(strategy=strategy, callbacks=[recorder], **common)
        trainer.fit(gan, TinyData())
        assert type(trainer.strategy) is GANDDPStrategy and recorder.wrapper is type(gan)
        assert trainer.global_step == 2
    recorder = _WrapperInTraining()
    trainer = pl.Trainer(strategy="ddp", callbacks=[recorder], **common)
    trainer.fit(BoringModel())
    assert recorder.wrapper is DistributedDataParallel
    assert trainer.global_step == 2


def test_average_gradients_in_one_process_group(tmp_path: Path):
    """With world size 1 averaging is the identity, and a parameter without a gradient
    keeps none (an optimizer must skip it, not apply a zero-gradient step)."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        with_grad, without_grad = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
        with_grad.grad = torch.tensor([1.0, 2.0, 3.0])
        average_gradients([with_grad, without_grad])
        assert torch.equal(with_grad.grad, torch.tensor([1.0, 2.0, 3.0]))
        assert without_grad.grad is None
    finally:
        dist.destroy_process_group()


def test_a_ddp_fit_through_the_cli_leaves_no_process_group_behind(one_process_group, tmp_path: Path):
    """The CLI's ranks destroy their process group once the run succeeds: left to interpreter
    exit, gloo can abort a finished run with status -6."""
    fixture = Path(__file__).parents[1] / "fixtures" / "ddp_tiny.yaml"
    main(["fit", "--config", str(fixture), "--trainer.devices=1", f"--trainer.default_root_dir={tmp_path}"])
    assert not dist.is_initialized()


def test_close_process_group_is_a_no_op_outside_distributed_runs():
    assert not dist.is_initialized()
    close_process_group()
    assert not dist.is_initialized()
