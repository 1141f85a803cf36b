"""Broadcasting buffers and parameters from rank 0 (GANDDPStrategy's buffer sync): every dtype,
buckets by dtype and size, and a process group of one. The two-process CLI runs are in test_ddp.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from gan_lightning.strategies import broadcast_buffers, broadcast_module, broadcast_tensors, gan_ddp


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
