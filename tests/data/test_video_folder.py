"""VideoFolderDataModule, your own clips: frame folders and GIFs become clips, short clips are
skipped, and video files without PyAV say how to install it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_lightning.data import VideoFolderDataModule, VideoReaderMissingError
from gan_lightning.data.video_folder import ShortClipsError, has_pyav


def write_frames(folder: Path, count: int, size: int = 10) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((size, size + 4), 20 * i, dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_frame_folders_and_gifs_become_clips_and_short_clips_are_skipped(tmp_path: Path):
    for name in ("a", "b", "c"):
        write_frames(tmp_path / "train" / name, 6)
    write_frames(tmp_path / "train" / "short", 2)
    frames = [Image.fromarray(np.full((12, 12), 40 * i, dtype=np.uint8)) for i in range(5)]
    frames[0].save(tmp_path / "train" / "d.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    write_frames(tmp_path / "val" / "v", 4)
    data = VideoFolderDataModule(tmp_path, num_frames=4, image_size=8, channels=1, batch_size=2)
    with pytest.warns(UserWarning, match=r"1 of 5 clips have fewer than the 4 frames.*short \(2 frames\)"):
        data.setup()
    assert len(data.train_set) == 4 and len(data.val_set) == 1
    held_out = data.val_set[0]["video"]
    assert held_out.shape == (1, 4, 8, 8)
    levels = ((held_out[0, :, 0, 0] + 1) * 127.5).round().tolist()
    assert levels == [0, 20, 40, 60]  # the first four frames, in name order
    gif = data.train_set[3]["video"]  # "d.gif" sorts after a, b, c
    assert gif.shape == (1, 4, 8, 8) and len(set(gif[0, :, 0, 0].tolist())) == 4
    batch = next(iter(data.train_dataloader()))
    assert batch["video"].shape == (2, 1, 4, 8, 8)
    strict = VideoFolderDataModule(tmp_path, num_frames=4, image_size=8, short_clips="error")
    with pytest.raises(ShortClipsError, match="Lower num_frames"):
        strict.setup()


@pytest.mark.skipif(has_pyav(), reason="PyAV is installed here")
def test_video_files_without_pyav_say_how_to_install_it(tmp_path: Path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "walk.mp4").write_bytes(b"\x00" * 64)
    write_frames(tmp_path / "clips" / "a", 4)
    with pytest.raises(VideoReaderMissingError, match=r"walk\.mp4.*pip install av"):
        VideoFolderDataModule(tmp_path / "clips", num_frames=4).setup()
