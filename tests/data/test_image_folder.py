"""ImageFolderDataModule: recursive class folders, centre crops, grey or RGB, a seeded held-out
split, and bad or missing files skipped with a warning or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.data import (
    DataNotFoundError,
    ImageFolderDataModule,
)
from tests.conftest import first_batch


def make_image_folder(root: Path) -> None:
    (root / "cats" / "indoor").mkdir(parents=True)
    (root / "dogs").mkdir(parents=True)
    (root / ".thumbnails").mkdir()
    # 2:1 image, red and blue bands at the ends: a centre crop keeps only green, stretching would not.
    wide = Image.new("RGB", (40, 20), (0, 255, 0))
    wide.paste((255, 0, 0), (0, 0, 6, 20))
    wide.paste((0, 0, 255), (34, 0, 40, 20))
    wide.save(root / "cats" / "wide.png")
    Image.new("RGB", (24, 24), (255, 255, 255)).save(root / "cats" / "indoor" / "white.jpg")
    Image.new("L", (16, 16), 0).save(root / "dogs" / "black.png")
    Image.new("RGB", (16, 16)).save(root / ".thumbnails" / "hidden.png")
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")


def test_image_folder_recursive_classes_and_skipped_files(tmp_path):
    make_image_folder(tmp_path)
    module = ImageFolderDataModule(root=tmp_path, batch_size=3, image_size=16, channels=3)
    with pytest.warns(UserWarning, match=r"Skipped 2 file\(s\).*broken.png.*notes.txt"):
        module.setup("fit")
    assert module.classes == ["cats", "dogs"] and module.num_classes == 2
    items = {tuple(image[:, 8, 8].tolist()): label for image, label in module.train_set}
    assert len(items) == 3
    assert items[(-1.0, 1.0, -1.0)] == 0  # the wide image, centre-cropped to pure green
    assert items[(1.0, 1.0, 1.0)] == 0  # cats/indoor/white.jpg: nested, still class "cats"
    assert items[(-1.0, -1.0, -1.0)] == 1  # grey dog replicated to RGB
    wide = next(image for image, _ in module.train_set if image[1, 8, 8] == 1.0 and image[0, 8, 8] == -1.0)
    assert torch.all(wide[0] == -1.0) and torch.all(wide[2] == -1.0)  # no red or blue band: not stretched
    images, labels = next(iter(module.train_dataloader()))
    assert images.shape == (3, 3, 16, 16) and labels.dtype == torch.long


def test_image_folder_grey_flat_folder_and_val_split(tmp_path):
    for i in range(5):
        Image.new("RGB", (12, 12), (50 * i, 0, 0)).save(tmp_path / f"{i}.png")
    module = ImageFolderDataModule(root=tmp_path, batch_size=2, image_size=8, channels=1, val_size=2)
    images, labels = first_batch(module)
    assert images.shape == (2, 1, 8, 8) and labels.tolist() == [0, 0]
    assert module.num_classes == 0 and len(module.train_set) == 3 and len(module.val_set) == 2


def test_image_folder_bad_files_can_fail_the_run(tmp_path):
    make_image_folder(tmp_path)
    module = ImageFolderDataModule(root=tmp_path, batch_size=2, image_size=16, on_bad_file="error")
    with pytest.raises(ValueError, match=r"2 file\(s\).*broken.png.*on_bad_file: skip"):
        module.setup("fit")


def test_image_folder_missing_or_empty_is_a_clear_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="is not a folder"):
        ImageFolderDataModule(root=tmp_path / "nowhere").prepare_data()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="No images found"):
        ImageFolderDataModule(root=tmp_path / "empty").setup()
