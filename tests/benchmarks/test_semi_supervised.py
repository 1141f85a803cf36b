"""benchmarks/semi_supervised.py: the aggregation over seeds, the paper's row beside each label
count, and the same batches for the classifier trained alone."""

from __future__ import annotations

import pytest


def test_benchmark_aggregates_mean_and_standard_error_beside_the_paper():
    from benchmarks.semi_supervised import markdown_table, summarize

    runs = [
        {"labels_per_class": k, "seed": s, "semi_supervised_accuracy": a, "labelled_only_accuracy": b,
         "semi_supervised_seconds": 300.0, "labelled_only_seconds": 30.0}
        for k, s, a, b in [(10, 0, 0.95, 0.75), (10, 1, 0.97, 0.77), (7, 0, 0.9, 0.7)]
    ]  # fmt: skip
    summary = summarize(runs)
    assert list(summary) == ["7", "10"]
    assert summary["10"]["semi_supervised_accuracy"]["mean"] == pytest.approx(0.96)
    assert summary["10"]["semi_supervised_accuracy"]["se"] == pytest.approx(0.01)
    table = markdown_table(summary, iterations=3000)
    # 10 labels/class = 100 labels in all: the paper's 93 ± 6.5 errors of 10,000
    assert "| 10 | **96.0 ± 1.0** | 76.0 ± 1.0 | +20.0 | 99.07 (93 ± 6.5 errors) | 300 / 30 | 2 |" in table
    assert "| 7 | **90.0** | 70.0 | +20.0 | — |" in table  # no paper row with 70 labels


def test_labelled_only_baseline_cycles_epochs_with_a_new_shuffle_each():
    from benchmarks.semi_supervised import epochs
    from gan_lightning.mnist import MNIST5kSemiSupervisedDataModule

    data = MNIST5kSemiSupervisedDataModule(labels_per_class=1, batch_size=1000)
    loader = data.train_dataloader()
    batches = [batch for _, batch in zip(range(len(loader) + 1), epochs(loader), strict=False)]
    assert len(batches) == len(loader) + 1
    assert not batches[0].unlabelled.equal(batches[len(loader)].unlabelled), "epoch 2 is shuffled anew"


def test_resume_keeps_the_finished_runs_and_adds_the_missing_ones(tmp_path, monkeypatch):
    import json

    from benchmarks import semi_supervised

    def fake_run(labels, seed, args, work):
        calls.append((labels, seed))
        return {"labels_per_class": labels, "seed": seed, "semi_supervised_accuracy": 0.9,
                "labelled_only_accuracy": 0.7, "semi_supervised_seconds": 10.0, "labelled_only_seconds": 1.0,
                "iterations": args.steps}  # fmt: skip

    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(semi_supervised, "one_run", fake_run)
    out = tmp_path / "results.json"
    semi_supervised.main(["--labels-per-class", "10", "--seeds", "0", "--steps", "5", "--out", str(out)])
    semi_supervised.main(
        ["--labels-per-class", "10", "5", "--seeds", "0", "--steps", "5", "--out", str(out), "--resume"]
    )
    assert calls == [(10, 0), (5, 0)]
    results = json.loads(out.read_text())
    assert [(run["labels_per_class"], run["seed"]) for run in results["runs"]] == [(10, 0), (5, 0)]
    assert list(results["summary"]) == ["5", "10"] and results["total_seconds"] == 22.0
    assert results["command"].endswith("--resume")


def test_config_flag_names_the_recipe_and_its_iterations():
    """``--config`` measures another recipe: its networks in the recipe line, its max_steps as the
    default iterations, and the labelled-only baseline builds the same config's D."""
    from benchmarks.semi_supervised import CONFIG, parse_args, recipe

    conv = CONFIG.with_name("semi_supervised_conv.yaml")
    assert parse_args([]).steps == 3000 and parse_args(["--config", str(conv)]).steps == 5000
    assert parse_args(["--config", str(conv), "--quick"]).steps == 200
    line = recipe(conv, 5000)
    assert (
        line.startswith("D: NoisyConvClassifier 16-32-64 (") and "G: DCGANGenerator (base width 32); Adam 0.001" in line
    )
    assert recipe(CONFIG, 3000).startswith("D: NoisyMLPClassifier 500-250-250 (")


def test_recipe_reads_the_config_as_the_cli_resolves_it(tmp_path):
    """A child config that swaps D's class and adds a labelled-batch transform: the recipe line
    names what the CLI would train (the parent's other settings kept, the old D's arguments gone)."""
    from benchmarks.semi_supervised import CONFIG, recipe, resolved_config

    (tmp_path / "child.yaml").write_text(
        f"extends: {CONFIG.with_name('semi_supervised_conv.yaml')}\n"
        "model:\n  init_args:\n    labelled_augment:\n      class_path: gan_lightning.augment.DiffAugment\n"
        "      init_args: {policy: [translation], translation_ratio: 0.0625}\n"
    )
    config = resolved_config(tmp_path / "child.yaml")
    assert config["trainer"]["max_steps"] == 5000 and "hidden_dims" not in config["model"]["init_args"]["discriminator"]
    line = recipe(tmp_path / "child.yaml", 5000)
    assert "; labelled batches through DiffAugment (policy translation, translation_ratio 0.0625);" in line
    assert "labelled batches through" not in recipe(CONFIG, 3000)
