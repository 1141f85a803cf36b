"""Images for the loggers: quantised as torchvision's PNG writer does, one image at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import save_image

from gan_lightning.loggers import to_pil, to_uint8


def test_images_are_quantised_like_save_image(tmp_path: Path):
    """``to_uint8`` rounds as torchvision's PNG writer does, so files and loggers agree exactly."""
    image = torch.rand(3, 5, 7, generator=torch.Generator().manual_seed(0))
    save_image(image, tmp_path / "x.png")
    assert torch.equal(to_uint8(image), torch.from_numpy(np.asarray(Image.open(tmp_path / "x.png"))).permute(2, 0, 1))
    grey = to_pil(torch.full((1, 2, 2), 0.5))
    assert grey.mode == "L" and np.asarray(grey).tolist() == [[128, 128], [128, 128]]


def test_log_image_refuses_a_batch():
    with pytest.raises(ValueError, match=r"one \(C, H, W\) image"):
        to_uint8(torch.rand(2, 3, 4, 4))
