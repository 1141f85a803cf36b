"""CaptionDataModule, your own captions: a JSONL file or a folder of images with .txt captions
gives (image, tokens) batches and a vocabulary of the training captions; bad lines are one-line
errors naming the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan_lightning.data import CaptionDataModule, CaptionFileError, DataNotFoundError
from tests.helpers.fake_datasets import write_images


def test_jsonl_captions_give_image_token_batches_and_a_vocabulary_of_the_training_captions(tmp_path: Path):
    paths = write_images(tmp_path / "images", 6)
    lines = [{"image": f"images/{p.name}", "caption": f"a blue square number {i}"} for i, p in enumerate(paths)]
    lines[0]["caption"] = ["first caption", "second caption"]
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    data = CaptionDataModule(
        tmp_path / "captions.jsonl", image_size=8, channels=3, max_words=6, val_size=2, batch_size=2
    )
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (2, 3, 8, 8) and batch["tokens"].shape == (2, 6)
    assert len(data.train_set) == 4 and len(data.val_set) == 2
    assert "blue" in data.vocabulary.ids
    decoded = data.vocabulary.decode(data.val_set[0]["tokens"])
    assert decoded.startswith("a blue square number") or decoded == "first caption"


@pytest.mark.parametrize(
    ("line", "error", "match"),
    [
        (
            '{"image": "images/missing.png", "caption": "x"}',
            DataNotFoundError,
            r"line 1: image .*missing.png not found",
        ),
        ("{not json", CaptionFileError, "line 1 is not valid JSON"),
        ('{"image": "images/000.png"}', CaptionFileError, 'line 1 needs an object with "image" and "caption"'),
        ('{"image": "images/000.png", "caption": "  "}', CaptionFileError, "line 1 has an empty caption"),
    ],
)
def test_bad_jsonl_lines_are_one_line_errors_naming_the_line(tmp_path: Path, line: str, error: type, match: str):
    write_images(tmp_path / "images", 1)
    (tmp_path / "captions.jsonl").write_text(line + "\n")
    with pytest.raises(error, match=match):
        CaptionDataModule(tmp_path / "captions.jsonl", val_size=0, batch_size=1).setup()


def test_a_folder_of_images_with_txt_captions(tmp_path: Path):
    paths = write_images(tmp_path / "data", 3)
    for i, path in enumerate(paths):
        path.with_suffix(".txt").write_text(f"picture {i}\nanother view {i}\n")
    (tmp_path / "data" / "notes.md").write_text("not an image")
    with pytest.warns(UserWarning, match=r"Skipped 1 file\(s\) .* neither images nor captions: .*notes.md"):
        data = CaptionDataModule(tmp_path / "data", image_size=8, channels=1, val_size=0, batch_size=3)
        data.setup()
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (3, 1, 8, 8)
    assert {"picture", "another", "view", "0"} <= set(data.vocabulary.ids)
    paths[1].with_suffix(".txt").unlink()
    with pytest.raises(DataNotFoundError, match=r"1 image\(s\) .* no caption file: .*001.txt"):
        CaptionDataModule(tmp_path / "data", val_size=0, batch_size=1).setup()
    with pytest.raises(DataNotFoundError, match="does not exist"):
        CaptionDataModule(tmp_path / "nowhere.jsonl").setup()
