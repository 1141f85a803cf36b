"""benchmarks/text2image.py: the diversity reading — feature spread, and the real digits that match a caption."""

from __future__ import annotations

import torch

from gan_lightning.mnist import MNISTCaptionsDataModule
from gan_lightning.mnist.caption_reading import read_position, read_size


def test_spread_is_the_mean_pairwise_distance():
    from benchmarks.text2image import spread

    points = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])
    assert spread(points) == torch.tensor([5.0, 4.0, 3.0]).mean().item()
    assert spread(points[:1].repeat(4, 1)) == 0.0  # copies: no diversity


def test_matching_reals_are_the_captions_digit_and_thickness_where_and_as_large_as_it_says():
    from benchmarks.text2image import matching_reals

    data = MNISTCaptionsDataModule(val_size=100, train_size=50, batch_size=8)
    data.setup()
    held_out = data.val_set
    digit = int(held_out.labels[0])
    attributes = {"digit": digit, "position": 1, "size": 0, "thickness": int(held_out.thickness[0])}
    images = matching_reals(held_out, attributes, 3, seed=0)
    assert images.shape == (3, 1, 32, 32)
    assert (read_position(images) == 1).all() and (read_size(images, data.layout) == 0).all()
    pool = (held_out.labels == digit) & (held_out.thickness == attributes["thickness"])
    candidates = [
        held_out.compose(int(index), 1, 0, (dr, dc))
        for index in pool.nonzero().flatten()
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
    ]
    assert all(any(torch.equal(image, candidate) for candidate in candidates) for image in images)
    assert torch.equal(matching_reals(held_out, attributes, 3, seed=0), images)  # seeded


def test_a_trained_runs_checkpoint_is_scored_without_training(tmp_path, monkeypatch):
    """``--checkpoint``: the run's model and its config's data, read back on every held-out caption."""
    import json

    from benchmarks.text2image import CONFIG, main
    from gan_lightning.cli import GANLightningCLI

    monkeypatch.setattr("sys.argv", ["lightning"])
    run = tmp_path / "run"
    quiet = ["--trainer.logger=false", "--trainer.enable_progress_bar=false", "--trainer.limit_val_batches=0"]
    tiny = ["--trainer.max_steps=2", "--trainer.accelerator=cpu", "--data.init_args.batch_size=8"]
    GANLightningCLI(args=["fit", "--config", str(CONFIG), *tiny, *quiet, f"--trainer.default_root_dir={run}"])
    main(["--checkpoint", str(run / "checkpoints" / "last.ckpt"), "--out", str(tmp_path / "scored.json")])
    results = json.loads((tmp_path / "scored.json").read_text())
    assert results["iterations"] == 2 and results["train_seconds"] is None
    assert results["captions"] == 500 and 0.0 <= results["generated"]["digit"] <= 1.0
    assert results["real_ceiling"]["digit"] > 0.9  # the held-out canvases of the run's own data
    assert results["diversity"]["ratio"] > 0 and (tmp_path / "scored_prompts.png").is_file()
