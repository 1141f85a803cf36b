"""Shared by the data tests: a loader's batches of one epoch, compared batch by batch."""

from __future__ import annotations

import torch


def epoch_batches(loader, epoch: int) -> list[dict[str, torch.Tensor]]:
    loader.sampler.set_epoch(epoch)
    return list(loader)


def assert_same_batches(first: list[dict], second: list[dict]) -> None:
    assert len(first) == len(second)
    for one, other in zip(first, second, strict=True):
        assert one.keys() == other.keys()
        for key in one:
            assert torch.equal(one[key], other[key]), key
