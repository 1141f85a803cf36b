"""benchmarks/throughput.py: its CPU smoke run (tiny settings) and the sums behind its table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from benchmarks import throughput


def test_the_cpu_smoke_run_counts_every_real_image_the_critic_sees(tmp_path: Path):
    out = tmp_path / "throughput.json"
    args = ["--device", "cpu", "--quick", "--configs", "wgan", "--variants", "eager", "bf16", "--out", str(out)]
    assert throughput.main(args) == 0
    results = json.loads(out.read_text())
    for variant in ("eager", "bf16"):
        measured = results["rows"]["wgan"][variant]
        assert measured["images_per_iteration"] == 8 * 5  # batch 8, n_critic 5 fresh real batches (wgan_gp)
        assert measured["images_per_second"] == pytest.approx(measured["iterations_per_second"] * 40)
        assert measured["seconds_per_kimg"] == pytest.approx(1000 / measured["images_per_second"])
    table = throughput.report(results)
    assert "| `wgan` | bf16 |" in table and "| `wgan` | eager |" in table


def test_the_fake_data_has_cifar10_s_shape_and_range():
    data = throughput.FakeCIFAR10(batch_size=4, size=16)
    images, labels = data.load()
    assert images.shape == (16, 3, 32, 32) and labels.shape == (16,)
    assert float(images.min()) >= -1 and float(images.max()) <= 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a GPU")
def test_asking_for_a_gpu_on_a_machine_without_one_says_so(capsys):
    assert throughput.main(["--device", "cuda", "--out", "/dev/null"]) == 2
    assert "no GPU" in capsys.readouterr().out
