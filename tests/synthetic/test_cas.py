"""GANs as data augmentation: the labelled subset, labelled sample export, the CAS pipeline,
configs/augmentation.yaml and the benchmark's aggregation (docs/augmentation.md)."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gan_lightning.cli import GANLightningCLI
from gan_lightning.cli import main as cli_main
from gan_lightning.commands import cas, sample
from gan_lightning.errors import CommandLineError
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.networks import ProjectionDCGANDiscriminator
from gan_lightning.synthetic import (
    ClassifierRecipe,
    SyntheticDataError,
    classification_accuracy_scores,
    cycled_labels,
    mixed_batches,
    parse_classes,
    read_labelled_images,
    train_classifier,
)
from tests.conftest import REPO_ROOT

torch.set_num_threads(1)


def rows_of(images: torch.Tensor) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


# ---------------------------------------------------------------- the labelled subset
def test_labelled_subset_has_k_per_class_from_the_training_split_only():
    full, subset = MNIST5kDataModule(), MNIST5kDataModule(labels_per_class=20, labels_seed=3)
    full.setup()
    subset.setup()
    images, labels = subset.train_set.tensors
    assert torch.bincount(labels, minlength=10).tolist() == [20] * 10
    assert torch.equal(subset.val_set.tensors[0], full.val_set.tensors[0]), "the held-out split must not change"
    assert rows_of(images) <= rows_of(full.train_set.tensors[0])
    assert not rows_of(images) & rows_of(full.val_set.tensors[0])
    # each kept image keeps its own label
    train_images, train_labels = full.train_set.tensors
    lookup = {image.numpy().tobytes(): int(label) for image, label in zip(train_images, train_labels, strict=True)}
    assert all(lookup[image.numpy().tobytes()] == int(label) for image, label in zip(images, labels, strict=True))


def test_labelled_subset_is_seeded_and_nested():
    def subset(k: int, seed: int) -> set[bytes]:
        datamodule = MNIST5kDataModule(labels_per_class=k, labels_seed=seed)
        datamodule.setup()
        return rows_of(datamodule.train_set.tensors[0])

    assert subset(10, 0) == subset(10, 0)
    assert subset(10, 0) != subset(10, 1)
    assert subset(10, 1) < subset(30, 1), "more labels add to the same digits"


def test_labelled_subset_bad_values_are_explained():
    with pytest.raises(ValueError, match="rarest class"):
        MNIST5kDataModule(labels_per_class=450).setup()
    with pytest.raises(ValueError, match="not both"):
        MNIST5kDataModule(labels_per_class=10, train_size=100)
    with pytest.raises(ValueError, match="labels_per_class must be a positive"):
        MNIST5kDataModule(labels_per_class=0)


# ---------------------------------------------------------------- the config and sample --labels
@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/augmentation.yaml trained 2 iterations on 10 digits per class."""
    root = tmp_path_factory.mktemp("cgan")
    cli = GANLightningCLI(
        args=[
            "fit",
            "--config",
            str(REPO_ROOT / "configs" / "augmentation.yaml"),
            "--data.init_args.labels_per_class=10",
            "--data.init_args.batch_size=16",
            "--trainer.max_steps=2",
            "--trainer.accelerator=cpu",
            "--trainer.logger=false",
            "--trainer.enable_progress_bar=false",
            "--trainer.enable_model_summary=false",
            f"--trainer.default_root_dir={root}",
            "--checkpoint.every_n_train_steps=null",
        ]
    )
    assert cli.trainer.global_step == 2
    assert len(cli.datamodule.train_set) == 100
    assert cli.model.generator.num_classes == 10
    return root


def write(run: Path, out: Path, *extra: str) -> dict[str, Path]:
    argv = [str(run / "checkpoints" / "last.ckpt"), "--out", str(out), "--grid-size", "0", "--interpolations", "0"]
    return sample.write_samples(sample.build_parser().parse_args([*argv, "--device", "cpu", *extra]))


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


def test_label_parsing_and_cycling():
    assert parse_classes("balanced", 4) == [0, 1, 2, 3]
    assert parse_classes("2, 0", 4) == [2, 0]
    for bad in ("four", "4", "-1", ""):
        with pytest.raises(CommandLineError):
            parse_classes(bad, 4)
    assert cycled_labels(7, [2, 0]).tolist() == [2, 0, 2, 0, 2, 0, 2]


def test_projection_dcgan_discriminator_uses_the_labels():
    torch.manual_seed(0)
    critic = ProjectionDCGANDiscriminator(image_size=28, base_width=8, num_classes=10)
    images = torch.randn(4, 1, 28, 28)
    scores = critic(images, torch.zeros(4, dtype=torch.long))
    assert scores.shape == (4,)
    assert not torch.allclose(scores, critic(images, torch.full((4,), 5)))
    with pytest.raises(ValueError, match="pass the class labels"):
        critic(images)


# ---------------------------------------------------------------- the classifier pipeline
def blobs(num: int, seed: int, shuffle_labels: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Separable 28-px 'digits': class c is a bright 4×4 square in cell c of a grid, plus noise."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num) % 10
    images = torch.randn(num, 1, 28, 28, generator=generator) * 0.3 - 0.5
    for index, label in enumerate(labels.tolist()):
        row, col = divmod(label, 4)
        images[index, 0, 2 + 8 * row : 6 + 8 * row, 2 + 6 * col : 6 + 6 * col] += 1.5
    if shuffle_labels:
        labels = labels[torch.randperm(num, generator=generator)]
    return images.clamp(-1, 1), labels


RECIPE = ClassifierRecipe(steps=40, batch_size=32, lr=3e-3)


def test_cas_is_high_for_right_labels_and_chance_for_wrong_ones():
    real, test = blobs(40, 0), blobs(200, 1)
    good = classification_accuracy_scores(real, blobs(400, 2), test, RECIPE, seed=0)
    assert good["synthetic"] > 0.9, "a classifier trained on separable synthetic data must beat chance (0.1)"
    assert good["gain"] == pytest.approx(good["real+synthetic"] - good["real"])
    bad = classification_accuracy_scores(real, blobs(400, 2, shuffle_labels=True), test, RECIPE, seed=0)
    assert bad["synthetic"] < 0.3, "the synthetic-only classifier must learn from the synthetic labels"
    assert bad["real"] == good["real"], "real-only does not depend on the synthetic set"


def test_real_plus_synthetic_learns_from_both_sets():
    """Real digits of classes 0-4 and synthetic ones of 5-9: only a classifier that trains on
    both sets can read all ten classes."""
    real, synthetic, test = blobs(100, 0), blobs(100, 2), blobs(200, 1)
    low, high = real[1] < 5, synthetic[1] >= 5
    scores = classification_accuracy_scores(
        (real[0][low], real[1][low]), (synthetic[0][high], synthetic[1][high]), test, RECIPE, seed=0
    )
    assert scores["real"] <= 0.55 and scores["synthetic"] <= 0.55
    assert scores["real+synthetic"] > 0.9
    assert scores["gain"] > 0.35


def test_mixed_batches_take_the_stated_counts_and_use_every_image():
    real_count, synthetic_count = ClassifierRecipe(batch_size=64, real_fraction=0.5).mixed_counts()
    assert (real_count, synthetic_count) == (32, 32)
    assert ClassifierRecipe(batch_size=64, real_fraction=0.25).mixed_counts() == (16, 48)
    batches = list(mixed_batches([50, 300], [real_count, synthetic_count], steps=10, seed=0))
    assert all(len(real) == 32 and len(synthetic) == 32 for real, synthetic in batches)
    real_seen = torch.cat([real for real, _ in batches])
    synthetic_seen = torch.cat([synthetic for _, synthetic in batches])
    assert set(real_seen.tolist()) == set(range(50)) and set(synthetic_seen.tolist()) == set(range(300))
    # every image once before any image twice
    assert len(set(synthetic_seen[:300].tolist())) == 300 and len(set(real_seen[:50].tolist())) == 50
    with pytest.raises(ValueError, match="real_fraction"):
        ClassifierRecipe(real_fraction=1.0)


def test_classifier_is_deterministic_and_leaves_the_global_rng_alone():
    data = blobs(64, 0)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=7)
    assert torch.equal(torch.random.get_rng_state(), before)
    again = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=7)
    other = train_classifier([data], [16], ClassifierRecipe(steps=5, batch_size=16), seed=8)
    for a, b in zip(first.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters(), strict=True))


def test_cas_command_on_exported_samples(conditional_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    write(conditional_run, tmp_path / "synthetic", "--num-images", "30", "--labels", "balanced")
    scores = tmp_path / "cas.json"
    argv = ["--synthetic", str(tmp_path / "synthetic"), "--config", str(conditional_run / "config.yaml")]
    assert cas.main([*argv, "--steps", "3", "--batch-size", "16", "--json", str(scores)]) == 0
    table = capsys.readouterr().out
    assert "100 real + 30 synthetic" in table and "500 held-out real" in table and "CAS" in table
    record = json.loads(scores.read_text())
    assert (record["real"], record["synthetic"], record["test"]) == (100, 30, 500)
    assert set(record["scores"]) == {"real", "synthetic", "real+synthetic", "gain"}
    with pytest.raises(SyntheticDataError, match=r"labels\.csv not found"):
        cas.main(["--synthetic", str(tmp_path), "--labels-per-class", "5", "--steps", "1"])


def test_synthetic_images_must_match_the_real_shape():
    real = blobs(20, 0)
    small = (torch.zeros(20, 1, 16, 16), torch.zeros(20, dtype=torch.long))
    with pytest.raises(SyntheticDataError, match="same image_size"):
        classification_accuracy_scores(real, small, real, RECIPE)


# ---------------------------------------------------------------- the benchmark's aggregation
def test_benchmark_aggregates_mean_and_standard_error():
    from benchmarks.augmentation import markdown_table, summarize

    runs = [
        {"labels_per_class": k, "seed": s, "real": r, "synthetic": c, "real+synthetic": m, "gain": m - r,
         "synthetic_read_as_label": 0.9, "gan_seconds": 100.0 + s}
        for k, s, r, c, m in [(50, 0, 0.90, 0.70, 0.88), (50, 1, 0.92, 0.74, 0.90), (100, 0, 0.95, 0.8, 0.96)]
    ]  # fmt: skip
    summary = summarize(runs)
    assert list(summary) == ["50", "100"]
    assert summary["50"]["real"]["mean"] == pytest.approx(0.91)
    assert summary["50"]["real"]["se"] == pytest.approx(0.01)
    assert summary["50"]["gain"]["mean"] == pytest.approx(-0.02)
    assert summary["100"]["gain"]["n"] == 1
    table = markdown_table(summary, iterations=1200)
    assert "| 50 | 91.0 ± 1.0 | 72.0 ± 2.0 | 89.0 ± 1.0 | **-2.0 ± 0.0** |" in table
    assert "| 100 | 95.0 | 80.0 | 96.0 | **+1.0** |" in table  # one seed: no standard error to show
