"""Clips (B, C, T, H, W) in [-1, 1] as pictures: an animated GIF of the grid of clips and a
PNG film strip (one clip per row, frames left to right).

Both are cut from the same 8-bit pixels (:func:`~gan_lightning.loggers.images.to_uint8` of
``make_grid`` in [0, 1], as the image grids), so a GIF frame shows exactly what the strip
shows. Grey clips are saved as 8-bit grey GIFs (exact); colour clips are quantised to the
GIF's 256-colour palette. Pillow merges consecutive identical frames into one longer frame
(the GIF plays the same; a frozen clip has fewer stored frames). MP4 needs PyAV.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid

from gan_lightning.loggers.images import to_pil, to_uint8


def check_clips(clips: Tensor) -> None:
    if clips.dim() != 5:
        raise ValueError(f"clips must have shape (B, C, T, H, W), got {tuple(clips.shape)}.")


def _grid(images: Tensor, nrow: int) -> Tensor:
    return make_grid(images.float().cpu(), nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)


def grid_frames(clips: Tensor, nrow: int | None = None) -> Tensor:
    """(T, 3, H', W') in [0, 1]: frame t of every clip laid out as an image grid
    (``nrow`` clips per row, default √B) — the frames of the GIF."""
    check_clips(clips)
    nrow = nrow or max(1, int(math.sqrt(clips.shape[0])))
    return torch.stack([_grid(clips[:, :, t], nrow) for t in range(clips.shape[2])])


def film_strip(clips: Tensor) -> Tensor:
    """(3, H', W') in [0, 1]: one clip per row, its frames left to right."""
    check_clips(clips)
    return _grid(clips.transpose(1, 2).flatten(0, 1), nrow=clips.shape[2])


def gif_frames(frames: Tensor) -> list[Image.Image]:
    """(T, C, H, W) frames in [0, 1] as PIL images: grey ("L") when all channels are equal."""
    pixels = [to_uint8(frame) for frame in frames]
    if all(p.shape[0] == 3 and torch.equal(p[0], p[1]) and torch.equal(p[0], p[2]) for p in pixels):
        pixels = [p[:1] for p in pixels]
    return [to_pil(p) for p in pixels]


def save_gif(frames: Tensor, path: Path, fps: float = 8.0) -> Path:
    """An animated GIF of (T, C, H, W) frames in [0, 1] that loops forever."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}.")
    images = gif_frames(frames)
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps), loop=0)
    return path


def has_pyav() -> bool:
    return importlib.util.find_spec("av") is not None


def save_mp4(frames: Tensor, path: Path, fps: float = 8.0) -> Path | None:
    """An H.264 MP4 of (T, C, H, W) frames in [0, 1] when PyAV is installed, else ``None``.
    Sides are padded to even numbers (yuv420p needs them)."""
    if not has_pyav():
        return None
    import av

    pixels = torch.stack([to_uint8(frame) for frame in frames])
    pixels = pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels[:, :3]
    height, width = pixels.shape[-2:]
    pixels = torch.nn.functional.pad(pixels, (0, width % 2, 0, height % 2), value=255)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.height, stream.width, stream.pix_fmt = pixels.shape[2], pixels.shape[3], "yuv420p"
        for frame in pixels.permute(0, 2, 3, 1).numpy():
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
