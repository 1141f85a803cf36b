"""CycleGAN's image pool (Shrivastava et al. 2017): new images while it fills, then half swapped
for stored ones; exact resume from its state; size zero draws no random numbers."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from gan_lightning.training import ImagePool


def numbered(first: int, count: int) -> torch.Tensor:
    """Images whose every pixel is their id, so returned images can be traced."""
    return torch.arange(first, first + count, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 2, 2).clone()


def ids(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()


def test_image_pool_returns_new_images_while_it_fills() -> None:
    pool = ImagePool(size=6)
    assert ids(pool.query(numbered(0, 4))) == [0, 1, 2, 3]
    assert ids(pool.query(numbered(4, 2))) == [4, 5]
    assert pool.count == 6


def test_full_image_pool_swaps_half_of_the_images_for_stored_ones() -> None:
    torch.manual_seed(0)
    pool = ImagePool(size=10)
    pool.query(numbered(0, 10))
    swapped = 0
    for step in range(200):
        batch = list(range(10 + 8 * step, 18 + 8 * step))
        stored_before = ids(torch.stack(pool.images))
        returned = ids(pool.query(numbered(batch[0], 8)))
        stored_after = ids(torch.stack(pool.images))
        # every image is either returned or kept, once: nothing is duplicated or lost
        assert sorted(stored_before + batch) == sorted(stored_after + returned)
        swapped += sum(out != new for out, new in zip(returned, batch, strict=True))
    assert 0.45 < swapped / 1600 < 0.55


def test_image_pool_resumes_exactly_from_its_state_dict() -> None:
    holder = nn.Module()
    holder.pool = ImagePool(size=5)
    torch.manual_seed(1)
    holder.pool.query(numbered(0, 7))
    buffer = io.BytesIO()
    torch.save(holder.state_dict(), buffer)
    rng = torch.get_rng_state()
    uninterrupted = [ids(holder.pool.query(numbered(100 + 4 * i, 4))) for i in range(10)]

    resumed = nn.Module()
    resumed.pool = ImagePool(size=5)
    buffer.seek(0)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    torch.set_rng_state(rng)
    assert [ids(resumed.pool.query(numbered(100 + 4 * i, 4))) for i in range(10)] == uninterrupted

    with pytest.raises(ValueError, match="resume with the same pool size"):
        ImagePool(size=3).load_state_dict(holder.pool.state_dict())


def test_empty_image_pool_state_round_trips() -> None:
    pool = ImagePool(size=4)
    pool.load_state_dict(ImagePool(size=4).state_dict())
    assert pool.count == 0 and pool  # an empty pool is not falsy


def test_image_pool_of_size_zero_passes_images_through_without_drawing_random_numbers() -> None:
    images = torch.randn(3, 1, 4, 4, requires_grad=True)
    rng = torch.get_rng_state()
    out = ImagePool(size=0).query(images)
    assert torch.equal(out, images) and not out.requires_grad
    assert torch.equal(torch.get_rng_state(), rng)
