"""Pseudo-labels from a semi-supervised GAN's classifier: MNIST-5k's unlabelled training digits
labelled by it, the labelled subset kept apart, and the checks that the labelling run shares
this run's held-out split and labelled digits."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest
import torch

from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands import cas
from gan_lightning.commands.loading import load_module
from gan_lightning.data.semi_supervised import balanced_subset
from gan_lightning.mnist import MNIST5kDataModule
from gan_lightning.mnist.pseudo_labels import PseudoLabelError
from tests.conftest import REPO_ROOT

QUIET = ["--trainer.accelerator=cpu", "--trainer.logger=false", "--trainer.enable_progress_bar=false"]
QUIET += ["--trainer.enable_model_summary=false", "--checkpoint.every_n_train_steps=null"]


def fit(config: str, root: Path, *overrides: str) -> GANLightningCLI:
    args = ["fit", "--config", str(REPO_ROOT / "configs" / config), *QUIET, f"--trainer.default_root_dir={root}"]
    return GANLightningCLI(args=[*args, "--trainer.max_steps=2", "--trainer.limit_val_batches=0", *overrides])


@pytest.fixture(scope="module")
def ssl_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/semi_supervised_conv.yaml trained 2 iterations on 10 labels per class."""
    root = tmp_path_factory.mktemp("ssl")
    fit("semi_supervised_conv.yaml", root, "--data.init_args.labels_per_class=10")
    return root / "checkpoints" / "last.ckpt"


def test_the_other_training_digits_get_the_classifiers_labels(ssl_checkpoint: Path):
    data = MNIST5kDataModule(labels_per_class=10, pseudo_labels=str(ssl_checkpoint), batch_size=1)
    plain = MNIST5kDataModule(labels_per_class=10, batch_size=1)
    state = torch.get_rng_state()
    data.setup()
    assert torch.equal(torch.get_rng_state(), state)  # building the classifier drew no numbers of the run's
    plain.setup()
    images, labels = data.train_set.tensors
    assert len(labels) == 4500 and len(data.labelled_set) == 100
    for ours, theirs in zip(data.labelled_set.tensors, plain.train_set.tensors, strict=True):
        assert torch.equal(ours, theirs)  # the labelled digits, with their own labels, as without pseudo-labels
    assert torch.equal(images[:100], plain.train_set.tensors[0]) and torch.equal(
        labels[:100], plain.train_set.tensors[1]
    )
    classifier, _ = load_module(ssl_checkpoint)
    expected = classifier.classify(images[100:]).argmax(dim=1)
    assert torch.equal(labels[100:], expected)
    held_out = set(map(bytes, data.val_set.tensors[0].flatten(1).numpy()))
    assert not held_out & set(map(bytes, images.flatten(1).numpy()))  # the held-out digits stay out
    every = MNIST5kDataModule(batch_size=1)
    every.setup()
    others = torch.ones(4500, dtype=torch.bool)
    others[balanced_subset(every.train_set.tensors[1], 10, 0, 10)] = False
    assert torch.equal(images[100:], every.train_set.tensors[0][others])
    agree = (expected == every.train_set.tensors[1][others]).float().mean().item()
    assert data.pseudo_label_accuracy == pytest.approx(agree)


def test_a_confidence_threshold_keeps_only_the_digits_read_surely(ssl_checkpoint: Path):
    everything = MNIST5kDataModule(labels_per_class=10, pseudo_labels=str(ssl_checkpoint), batch_size=1)
    everything.setup()
    classifier, _ = load_module(ssl_checkpoint)
    confidence = classifier.classify(everything.train_set.tensors[0][100:]).softmax(dim=1).amax(dim=1)
    threshold = float(confidence.median())
    sure = MNIST5kDataModule(
        labels_per_class=10, pseudo_labels=str(ssl_checkpoint), pseudo_label_confidence=threshold, batch_size=1
    )
    sure.setup()
    assert len(sure.train_set) == 100 + int((confidence >= threshold).sum())
    assert 100 < len(sure.train_set) < 4500


def test_a_conditional_gan_trains_on_every_digit_and_cas_compares_with_the_labelled_ones(
    ssl_checkpoint: Path, tmp_path: Path
):
    cli = fit(
        "augmentation.yaml",
        tmp_path,
        "--data.init_args.labels_per_class=10",
        "--data.init_args.batch_size=16",
        f"--data.init_args.pseudo_labels={ssl_checkpoint}",
    )
    assert cli.trainer.global_step == 2 and len(cli.datamodule.train_set) == 4500
    real, test, classes = cas.real_splits(argparse.Namespace(config=tmp_path / "config.yaml"))
    assert len(real[1]) == 100 and len(test[1]) == 500 and classes == 10  # the real labelled digits only


@pytest.mark.parametrize(
    ("settings", "named"),
    [({"labels_per_class": 20}, "labels_per_class"), ({"labels_per_class": 10, "seed": 1}, "seed")],
)
def test_a_classifier_trained_on_other_data_is_refused(ssl_checkpoint: Path, settings: dict, named: str):
    data = MNIST5kDataModule(pseudo_labels=str(ssl_checkpoint), batch_size=1, **settings)
    with pytest.raises(PseudoLabelError, match=f"{named} .*there"):
        data.setup()


def test_a_checkpoint_without_its_run_config_or_classifier_is_refused(ssl_checkpoint: Path, tmp_path: Path):
    alone = tmp_path / "alone.ckpt"
    shutil.copy(ssl_checkpoint, alone)
    with pytest.raises(PseudoLabelError, match=r"no config\.yaml"):
        MNIST5kDataModule(labels_per_class=10, pseudo_labels=str(alone), batch_size=1).setup()
    with pytest.raises(ValueError, match="set labels_per_class"):
        MNIST5kDataModule(pseudo_labels=str(ssl_checkpoint))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        MNIST5kDataModule(labels_per_class=10, pseudo_labels=str(ssl_checkpoint), pseudo_label_confidence=1.0)
