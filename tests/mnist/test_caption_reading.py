"""Reading captions back from generated canvases: digit, position, size and thickness on real
canvases, and wrong captions read as wrong."""

from __future__ import annotations

from gan_lightning.mnist import MNISTCaptionsDataModule
from gan_lightning.mnist.caption_reading import caption_scores, read_position


def test_the_reader_reads_real_canvases_and_rejects_wrong_captions(canvases: MNISTCaptionsDataModule):
    batch = next(iter(canvases.val_dataloader()))
    thresholds = canvases.thickness_thresholds()
    scores, features = caption_scores(batch["image"], batch, canvases.layout, thresholds)
    assert features.shape == (100, 64)
    assert scores["digit"].mean() > 0.85 and scores["position"].mean() > 0.97
    assert scores["size"].nanmean() > 0.97 and scores["thickness"].nanmean() > 0.9
    assert scores["size"].isnan().sum() == (batch["size"] < 0).sum()
    wrong_digit = dict(batch, digit=(batch["digit"] + 1) % 10)
    assert caption_scores(batch["image"], wrong_digit, canvases.layout, thresholds)[0]["digit"].mean() < 0.05
    wrong_place = dict(batch, position=batch["position"] ^ 1)  # left <-> right, top <-> bottom
    scores, _ = caption_scores(batch["image"], wrong_place, canvases.layout, thresholds)
    assert scores["position"].mean() < 0.05 and scores["digit"].mean() < 0.5  # an empty window reads badly
    assert (read_position(batch["image"]) == batch["position"]).float().mean() > 0.97
