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


class SloppyClassGAN:
    """A stand-in class-conditional GAN whose flat 'digits' store their class as brightness:
    it draws the next class instead of the asked one half the time (never the asked one for
    ``never``), and its discriminator's classifier reads the brightness back."""

    device = torch.device("cpu")

    def __init__(self, never: int | None = None) -> None:
        self.never = never
        self.discriminator = SimpleNamespace(classify=self.classify)

    def sample(self, num: int, labels: torch.Tensor, generator: torch.Generator, **_: object) -> torch.Tensor:
        wrong = torch.rand(num, generator=generator) < 0.5
        if self.never is not None:
            wrong |= labels == self.never
        drawn = torch.where(wrong, (labels + 1) % 10, labels)
        return (drawn.float() / 9 * 2 - 1).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).clone()

    @staticmethod
    def classify(images: torch.Tensor) -> torch.Tensor:
        level = ((images.mean(dim=(1, 2, 3)) + 1) / 2 * 9).round().long().clamp(0, 9)
        return torch.nn.functional.one_hot(level, 10).float()


def keep_classified_args(out: Path, keep: bool) -> argparse.Namespace:
    return argparse.Namespace(
        out=out, seed=0, truncation=None, raw_generator=False, batch_size=16, keep_classified=keep
    )


def test_keep_classified_writes_only_samples_the_gans_classifier_reads_as_their_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    labels = torch.arange(10).repeat(4)
    sample.write_labelled_samples(SloppyClassGAN(), keep_classified_args(tmp_path / "plain", False), labels)
    images, written = read_labelled_images(tmp_path / "plain")
    assert torch.equal(written, labels)
    assert (SloppyClassGAN.classify(images).argmax(1) != labels).sum() > 10  # unfiltered: many wrong classes
    sample.write_labelled_samples(SloppyClassGAN(), keep_classified_args(tmp_path / "kept", True), labels)
    images, written = read_labelled_images(tmp_path / "kept")
    assert torch.equal(written, labels) and torch.equal(SloppyClassGAN.classify(images).argmax(1), labels)
    drew = int(capsys.readouterr().out.split("drew ")[1].split()[0])
    assert drew > 50  # about half of the 40 were drawn again, some more than once


def test_keep_classified_fails_in_one_line_when_a_class_never_reads_right(tmp_path: Path):
    """The first batch of 16 holds class 3 twice; no manifest is written, so no half export looks whole."""
    with pytest.raises(CommandLineError, match=r"^--keep-classified: After 50 redraws, 2 samples of class\(es\) \[3\]"):
        sample.write_labelled_samples(
            SloppyClassGAN(never=3), keep_classified_args(tmp_path, True), torch.arange(10).repeat(4)
        )
    assert not (tmp_path / "labels.csv").exists()


def test_keep_classified_needs_an_auxiliary_classifier():
    module = SimpleNamespace(generator=SimpleNamespace(num_classes=10), discriminator=nn.Linear(2, 2))
    args = argparse.Namespace(labels="balanced", num_images=10, checkpoint=Path("run.ckpt"), keep_classified=True)
    with pytest.raises(CommandLineError, match="--keep-classified needs a discriminator with an auxiliary classifier"):
        sample.requested_labels(module, args)
    args = argparse.Namespace(labels=None, num_images=10, checkpoint=Path("run.ckpt"), keep_classified=True)
    with pytest.raises(CommandLineError, match="--keep-classified filters the labelled export: add --labels"):
        sample.requested_labels(module, args)
