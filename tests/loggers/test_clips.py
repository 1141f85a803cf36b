"""Clips for the loggers: GIF frames hold the pixels of the film strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_lightning.loggers.clips import film_strip, grid_frames, save_gif
from tests.conftest import gif_pixels, moving_square


def test_gif_frames_hold_the_pixels_of_the_film_strip(tmp_path: Path):
    clips = torch.cat([moving_square(6, 16), moving_square(6, 16, step=2) * 0.3, -moving_square(6, 16)])
    save_gif(grid_frames(clips, nrow=2), tmp_path / "c.gif", fps=10)
    strip = np.asarray(Image.fromarray(film_strip(clips).mul(255).add(0.5).clamp(0, 255).byte()[0].numpy()))
    frames = gif_pixels(tmp_path / "c.gif")
    assert len(frames) == 6 and frames[0].shape == (2 + 2 * 18, 2 + 2 * 18)
    with Image.open(tmp_path / "c.gif") as gif:
        assert gif.info["loop"] == 0 and gif.info["duration"] == 100
    for t, frame in enumerate(frames):
        for clip in range(3):
            row, col = divmod(clip, 2)  # GIF: 2 clips per row; strip: clip per row, frame per column
            in_gif = frame[2 + 18 * row : 18 * (row + 1), 2 + 18 * col : 18 * (col + 1)]
            in_strip = strip[2 + 18 * clip : 18 * (clip + 1), 2 + 18 * t : 18 * (t + 1)]
            assert np.array_equal(in_gif, in_strip), f"clip {clip} frame {t}"
    assert len(np.unique(frames[0])) >= 3  # white square, grey square, black background, white padding
