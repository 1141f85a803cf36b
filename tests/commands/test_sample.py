"""`gan-lightning sample CKPT`: grids, single PNGs, interpolation strips, and labelled
exports (`--labels`) from class-conditional generators."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from PIL import Image
from torch import nn

from gan_lightning.cli import main
from gan_lightning.cli import main as cli_main
from gan_lightning.commands import sample
from gan_lightning.commands.sample import slerp
from gan_lightning.errors import CommandLineError
from gan_lightning.synthetic import (
    read_labelled_images,
)
from tests.commands.conftest import write


def manifest_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def test_sample_labels_balanced_writes_an_image_folder_and_a_manifest(conditional_run: Path, tmp_path: Path):
    written = write(conditional_run, tmp_path / "a", "--num-images", "25", "--labels", "balanced", "--seed", "4")
    assert written["labels"] == tmp_path / "a" / "labels.csv"
    rows = manifest_rows(tmp_path / "a")
    assert len(rows) == 25 and len({row["path"] for row in rows}) == 25
    counts = [sum(row["label"] == str(label) for row in rows) for label in range(10)]
    assert sorted(counts) == [2] * 5 + [3] * 5
    for row in rows:
        assert Path(row["path"]).parent == Path("images") / row["label"]
    files = sorted(path.relative_to(tmp_path / "a").as_posix() for path in (tmp_path / "a").rglob("*.png"))
    assert files == sorted(row["path"] for row in rows)
    images, labels = read_labelled_images(tmp_path / "a")
    assert images.shape == (25, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert labels.tolist() == [int(row["label"]) for row in rows]


def test_sample_labels_are_seeded_and_a_list_picks_classes(conditional_run: Path, tmp_path: Path):
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        write(conditional_run, tmp_path / name, "--num-images", "6", "--labels", "3,7", "--seed", seed)
    first, again, other = (read_labelled_images(tmp_path / name)[0] for name in "abc")
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert {row["label"] for row in manifest_rows(tmp_path / "a")} == {"3", "7"}


def test_sample_labels_errors_are_one_line(conditional_run: Path, tmp_path: Path):
    checkpoint = str(conditional_run / "checkpoints" / "last.ckpt")
    with pytest.raises(SystemExit, match=r"^error: --labels '12': classes must be integers in 0..9"):
        cli_main(["sample", checkpoint, "--out", str(tmp_path), "--num-images", "4", "--labels", "12"])
    with pytest.raises(CommandLineError, match="give --num-images"):
        write(conditional_run, tmp_path / "x", "--labels", "balanced")
    assert not (tmp_path / "x" / "labels.csv").exists()


def test_labels_need_a_class_conditional_generator():
    unconditional = SimpleNamespace(generator=nn.Linear(2, 2))
    args = argparse.Namespace(labels="balanced", num_images=10, checkpoint=Path("run.ckpt"))
    with pytest.raises(CommandLineError, match="needs a class-conditional GAN"):
        sample.requested_labels(unconditional, args)
    assert sample.requested_labels(unconditional, argparse.Namespace(labels=None)) is None


def test_sample_writes_grid_images_and_interpolation(wgan_run: Path, tmp_path: Path) -> None:
    checkpoint = str(wgan_run / "checkpoints" / "last.ckpt")
    args = ["--grid-size", "16", "--num-images", "5", "--interpolations", "3", "--steps", "6"]
    main(["sample", checkpoint, "--out", str(tmp_path / "a"), *args])
    main(["sample", checkpoint, "--out", str(tmp_path / "b"), *args])
    assert sorted(p.name for p in (tmp_path / "a" / "images").iterdir()) == [f"{i:06d}.png" for i in range(5)]
    assert Image.open(tmp_path / "a" / "images" / "000000.png").size == (8, 8)
    assert Image.open(tmp_path / "a" / "grid.png").size == (4 * 10 + 2, 4 * 10 + 2)  # 4×4 of 8 px, 2 px gaps
    assert Image.open(tmp_path / "a" / "interpolation.png").size == (6 * 10 + 2, 3 * 10 + 2)
    for name in ("grid.png", "interpolation.png", "images/000004.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_slerp_keeps_endpoints_and_norm() -> None:
    start, end = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = slerp(start, end, torch.linspace(0, 1, 5))[0]
    assert torch.allclose(path[0], start[0], atol=1e-5) and torch.allclose(path[-1], end[0], atol=1e-5)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)


def test_sample_command_with_a_conditional_generator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conditional generators get seeded uniform labels, and one class per interpolation row."""

    from gan_lightning.commands import sample as sample_command
    from gan_lightning.networks import ResNetDiscriminator, ResNetGenerator
    from tests.conftest import tiny_gan

    gan = tiny_gan(
        generator=ResNetGenerator(latent_dim=8, image_size=8, channels=1, width=4, num_classes=3),
        discriminator=ResNetDiscriminator(image_size=8, channels=1, width=4, num_classes=3),
    )
    seen_labels: list[torch.Tensor] = []
    original_generate = gan.generate

    def recording_generate(latent, labels=None, use_ema=True):
        seen_labels.append(labels)
        return original_generate(latent, labels, use_ema)

    gan.generate = recording_generate
    monkeypatch.setattr(sample_command, "load_module", lambda *args, **kwargs: (gan, None))
    args = sample_command.build_parser().parse_args(
        ["unused.ckpt", "--out", str(tmp_path), "--grid-size", "4", "--interpolations", "2", "--steps", "3"]
    )
    sample_command.write_samples(args)
    grid_labels, strip_labels = seen_labels
    assert grid_labels.shape == (4,) and int(grid_labels.max()) < 3
    assert torch.equal(strip_labels.view(2, 3), strip_labels.view(2, 3)[:, :1].expand(2, 3))
    seeded = [gan.sample(5, generator=torch.Generator().manual_seed(7)) for _ in range(2)]
    assert torch.equal(*seeded)


def test_truncation_draws_the_grid_from_narrower_noise(wgan_run: Path, tmp_path: Path) -> None:
    checkpoint = str(wgan_run / "checkpoints" / "last.ckpt")
    common = ["--grid-size", "16", "--interpolations", "0"]
    main(["sample", checkpoint, "--out", str(tmp_path / "plain"), *common])
    main(["sample", checkpoint, "--out", str(tmp_path / "cut"), *common, "--truncation", "0.2"])
    plain, cut = (Image.open(tmp_path / name / "grid.png") for name in ("plain", "cut"))
    assert plain.size == cut.size and plain.tobytes() != cut.tobytes()
