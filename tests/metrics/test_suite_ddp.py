"""Under DDP every rank featurises its share and the states sync: two CPU processes (gloo)
must give the numbers one process gives on the same samples, and must not hang."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gan_lightning.metrics import GenerativeMetrics

WORLD = 2
OPTIONS = {
    "num_samples": 40,
    "batch_size": 8,
    "kid": True,
    "kid_subsets": 10,
    "kid_subset_size": 24,
    "precision_recall": True,
    "inception_score": True,
}


def sample_sets() -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """(reference, fakes, floor batches): 8×8 'digits' the MNIST network resizes to 28."""
    generator = torch.Generator().manual_seed(0)
    reference = torch.rand(48, 1, 8, 8, generator=generator) * 2 - 1
    fakes = torch.rand(40, 1, 8, 8, generator=generator) * 1.5 - 1
    floor = [torch.rand(12, 1, 8, 8, generator=generator) * 2 - 1 for _ in range(4)]
    return reference, fakes, floor


def evaluate(metrics: GenerativeMetrics, rank: int, world: int) -> dict[str, float]:
    """Each rank takes a contiguous share of reference and fakes (as the distributed sampler and
    ``update_fakes_from`` do) and strided floor batches (as ``update_floor_from`` does)."""
    reference, fakes, floor = sample_sets()
    metrics.update_reference(reference.chunk(world)[rank])
    fake_share = fakes.chunk(world)[rank]
    assert metrics._share(len(fakes)) == len(fake_share)
    metrics.update_fakes_from(lambda n, generator: fake_share[:n])  # batch_size > share: one call
    metrics.update_floor_from(floor)
    return {**metrics.fake_scores(), **metrics.floor_scores(), **{f"n_{k}": v for k, v in metrics.counts().items()}}


def _worker(rank: int, world: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world)
    try:
        results = evaluate(GenerativeMetrics(**{**OPTIONS, "batch_size": 100}), rank, world)
        torch.save(results, Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_two_processes_give_the_single_process_numbers(tmp_path: Path) -> None:
    single = evaluate(GenerativeMetrics(**{**OPTIONS, "batch_size": 100}), rank=0, world=1)
    mp.spawn(_worker, args=(WORLD, str(tmp_path)), nprocs=WORLD, join=True)
    per_rank = [torch.load(tmp_path / f"rank{rank}.pt", weights_only=True) for rank in range(WORLD)]
    assert per_rank[0] == per_rank[1]  # every rank gets the same (synced) numbers
    assert set(per_rank[0]) == set(single)
    assert per_rank[0]["n_reference"] == 48 and per_rank[0]["n_floor"] == 40
    for key, value in single.items():
        assert per_rank[0][key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
