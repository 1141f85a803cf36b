"""The resumable loader: a seeded shuffle per epoch, resumed mid-epoch from its state without
replaying or skipping a batch."""

from __future__ import annotations

import torch


def _loader(seed: int = 0):
    from torch.utils.data import TensorDataset

    from gan_lightning.data.resumable import EpochSeededRandomSampler, ResumableDataLoader

    dataset = TensorDataset(torch.arange(16))
    return ResumableDataLoader(dataset, batch_size=4, sampler=EpochSeededRandomSampler(dataset, seed=seed))


def _epoch(loader, epoch: int) -> list[list[int]]:
    loader.sampler.set_epoch(epoch)
    return [batch[0].tolist() for batch in loader]


def test_loader_resumes_mid_epoch_and_reshuffles_per_epoch():
    reference = _loader()
    first, second = _epoch(reference, 0), _epoch(reference, 1)
    assert first != second and sorted(i for batch in first for i in batch) == list(range(16))

    interrupted = _loader()
    interrupted.sampler.set_epoch(1)
    iterator = iter(interrupted)
    seen = [next(iterator)[0].tolist() for _ in range(2)]
    state = interrupted.state_dict()
    assert state == {"epoch": 1, "batches_delivered": 2}

    resumed = _loader()
    resumed.load_state_dict(state)
    assert seen + [batch[0].tolist() for batch in resumed] == second


def test_loader_does_not_skip_into_the_next_epoch():
    """An epoch cut short (limit_train_batches) then finished: the next epoch starts at 0."""
    resumed = _loader()
    resumed.load_state_dict({"epoch": 0, "batches_delivered": 3})
    assert _epoch(resumed, 1) == _epoch(_loader(), 1)
