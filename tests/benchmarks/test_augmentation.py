"""benchmarks/augmentation.py: the aggregation over seeds, its table, merging, and the second digit reader."""

from __future__ import annotations

import pytest
import torch

from benchmarks.augmentation import AllConvReader, shifted, train_second_reader
from gan_lightning.synthetic import accuracy


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


def run_record(k: int, seed: int, real: float, gain: float, gain_09: float) -> dict:
    return {
        "labels_per_class": k,
        "seed": seed,
        "real": real,
        "synthetic": 0.9,
        "real+synthetic": real + gain,
        "gain": gain,
        "real+synthetic@0.9": real + gain_09,
        "gain@0.9": gain_09,
        "synthetic_read_as_label": 0.98,
        "synthetic_read_by_second_reader": 0.97,
        "gan_seconds": 500.0,
    }


def test_the_table_adds_a_column_pair_per_mixing_ratio_and_the_second_reader():
    from benchmarks.augmentation import markdown_table, summarize

    summary = summarize([run_record(50, 0, 0.92, -0.01, 0.01), run_record(50, 1, 0.94, -0.03, 0.03)])
    header, _, row = markdown_table(summary, iterations=6000).splitlines()
    assert "| real + synthetic, 90% real | gain (90% real) |" in header and "… by the second reader" in header
    assert (
        row
        == "| 50 | 93.0 ± 1.0 | 90.0 ± 0.0 | 91.0 ± 0.0 | **-2.0 ± 1.0** | 95.0 ± 2.0 | **+2.0 ± 1.0** | 98.0 ± 0.0 | 97.0 ± 0.0 | 500 | 2 |"
    )


def test_merge_pools_the_runs_of_side_by_side_processes(tmp_path):
    import json

    from benchmarks.augmentation import main, merge

    settings = {"command": "python -m benchmarks.augmentation", "quick": False, "config": "augmentation.yaml", "gan_iterations": 6000, "synthetic_per_run": 5000,
                "classifier": "DigitCNN", "real_fractions": [0.5, 0.9], "threads": 1}  # fmt: skip
    for name, k, seeds in (("a", 400, (0, 1)), ("b", 50, (0,))):
        runs = [run_record(k, seed, 0.95, 0.0, 0.01) for seed in seeds]
        (tmp_path / f"{name}.json").write_text(json.dumps({**settings, "total_seconds": 10.0, "runs": runs}))
    merged = merge([tmp_path / "a.json", tmp_path / "b.json"])
    assert [(run["labels_per_class"], run["seed"]) for run in merged["runs"]] == [(50, 0), (400, 0), (400, 1)]
    assert list(merged["summary"]) == ["50", "400"] and merged["summary"]["400"]["real"]["n"] == 2
    assert merged["total_seconds"] == 20.0 and merged["merged_from"] == ["a.json", "b.json"]
    assert merged["command"] == "python -m benchmarks.augmentation in 2 processes side by side, pooled with --merge"
    main(["--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "all.json")])
    assert json.loads((tmp_path / "all.json").read_text())["summary"] == json.loads(json.dumps(merged["summary"]))
    (tmp_path / "c.json").write_text(json.dumps({**settings, "gan_iterations": 1200, "total_seconds": 1, "runs": []}))
    with pytest.raises(SystemExit, match="disagree on gan_iterations"):
        merge([tmp_path / "a.json", tmp_path / "c.json"])


def test_shifts_move_the_image_and_pad_with_background():
    image = torch.full((1, 1, 8, 8), -1.0)
    image[0, 0, 3:5, 3:5] = 1.0
    moved = shifted(image.repeat(64, 1, 1, 1), torch.Generator().manual_seed(0))
    assert moved.shape == (64, 1, 8, 8)
    assert set(moved.unique().tolist()) == {-1.0, 1.0}
    assert (moved == 1).sum(dim=(1, 2, 3)).eq(4).all()  # a 2-px shift keeps this centred square whole
    assert len({tuple(map(tuple, (m[0] == 1).nonzero().tolist())) for m in moved}) > 5  # and moves it around


def test_the_reader_learns_classes_it_is_trained_on_and_is_seeded():
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (256,), generator=generator)
    images = torch.full((256, 1, 8, 8), -1.0)
    images[labels == 0, :, :, :4] = 1.0  # class 0: bright left half, class 1: bright right half
    images[labels == 1, :, :, 4:] = 1.0
    first = train_second_reader((images, labels), seed=1, steps=40, batch_size=32)
    assert isinstance(first, AllConvReader) and not first.training
    assert accuracy(first, images, labels) == 1.0
    assert accuracy(first, images, 1 - labels) == 0.0
    again = train_second_reader((images, labels), seed=1, steps=40, batch_size=32)
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_the_pseudo_labelled_study_has_its_own_results_and_label_source_columns():
    from benchmarks.augmentation import markdown_table, parse_args, summarize

    args = parse_args(["--label-source", "semi_supervised"])
    assert args.out.name == "augmentation_ssl.json" and args.ssl_steps == 5000  # the SSL config's own length
    assert parse_args([]).out.name == "augmentation.json" and parse_args(["--quick"]).ssl_steps == 50
    runs = [
        run_record(50, seed, 0.93, 0.01, 0.02) | {"ssl_accuracy": acc, "pseudo_label_accuracy": acc - 0.01, "ssl_seconds": 600.0}
        for seed, acc in ((0, 0.96), (1, 0.98))
    ]  # fmt: skip
    header, _, row = markdown_table(summarize(runs), iterations=6000).splitlines()
    assert "| SSL classifier, held out | pseudo-labels right | SSL seconds |" in header
    assert row.endswith("| 97.0 ± 1.0 | 96.0 ± 1.0 | 600 | 500 | 2 |")
    assert "SSL" not in markdown_table(summarize([run_record(50, 0, 0.93, 0.0, 0.0)]), iterations=6000)


def test_pooling_semi_supervised_results_builds_no_cli(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """``--merge`` only reads results files: resolving the SSL config (a CLI build) is for runs that train."""
    import benchmarks.semi_supervised
    from benchmarks.augmentation import parse_args

    def no_build(path):
        raise AssertionError(f"resolved {path}")

    monkeypatch.setattr(benchmarks.semi_supervised, "resolved_config", no_build)
    args = parse_args(["--label-source", "semi_supervised", "--merge", str(tmp_path / "a.json")])
    assert args.ssl_steps is None and args.merge == [tmp_path / "a.json"]
    with pytest.raises(AssertionError, match="resolved"):
        parse_args(["--label-source", "semi_supervised"])
