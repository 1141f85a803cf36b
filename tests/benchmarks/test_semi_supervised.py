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
