"""Data order that survives a restart in the middle of an epoch.

Lightning saves and restores the ``state_dict`` of a training DataLoader that has one
(``fit_loop.on_save_checkpoint``). :class:`EpochSeededRandomSampler` makes the shuffle a
function of ``(seed, epoch)`` alone, and :class:`ResumableDataLoader` records the epoch and
how many batches of it were delivered, then skips those after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

import torch
from torch.utils.data import DataLoader, RandomSampler


class EpochSeededRandomSampler(RandomSampler):
    """A random permutation per epoch drawn from ``seed + epoch``, like ``DistributedSampler``.

    Lightning calls :meth:`set_epoch` before each epoch. Being a ``RandomSampler``, it is
    replaced by a shuffling ``DistributedSampler`` under DDP as usual.
    """

    def __init__(self, data_source: Sized, seed: int = 0) -> None:
        super().__init__(data_source, generator=torch.Generator())
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        assert self.generator is not None
        self.generator.manual_seed(self.seed + self.epoch)
        yield from super().__iter__()


class ResumableDataLoader(DataLoader):
    """A DataLoader whose position within the epoch is saved in checkpoints.

    After :meth:`load_state_dict`, the next iteration starts at the sampler's saved epoch
    and skips the batches already trained on. Skipped batches are drawn and discarded,
    which is cheap for in-memory data and correct for any sampler.
    """

    _epoch: int | None = None
    _batches_delivered: int = 0
    _batches_to_skip: int = 0
    _skip_in_epoch: int | None = None

    def __iter__(self) -> Iterator[Any]:
        iterator = super().__iter__()
        self._epoch = getattr(self.sampler, "epoch", None)
        self._batches_delivered = 0
        if self._epoch != self._skip_in_epoch:  # the saved epoch was finished: start afresh
            self._batches_to_skip = 0
        for _ in range(self._batches_to_skip):
            next(iterator)
            self._batches_delivered += 1
        self._batches_to_skip = 0
        for batch in iterator:
            self._batches_delivered += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self._epoch, "batches_delivered": self._batches_delivered}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        epoch = state_dict.get("epoch")
        if epoch is not None and hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)
        self._skip_in_epoch = epoch
        delivered = int(state_dict.get("batches_delivered", 0))
        # A checkpoint taken at the end of an epoch resumes at the start of the next one.
        self._batches_to_skip = delivered if delivered < len(self) else 0
