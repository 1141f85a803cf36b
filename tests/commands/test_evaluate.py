"""Checkpoint commands on a tiny CLI run: `evaluate` (table + JSON with floors), `sample`
(grid, single PNGs, interpolation strip), `lightning validate --ckpt_path`, and the
best-by-FID checkpoint of configs/wgan.yaml."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.commands import run
from gan_lightning.commands.loading import load_module
from gan_lightning.commands.sample import slerp
from tests.conftest import REPO_ROOT

WGAN = str(REPO_ROOT / "configs" / "wgan.yaml")
TINY = [
    "--data=gan_lightning.data.Digits8x8DataModule",
    "--data.init_args.val_size=500",
    "--data.init_args.batch_size=16",
    "--data.init_args.image_size=8",
    "--model.init_args.generator.init_args.base_width=4",
    "--model.init_args.discriminator.init_args.base_width=4",
    "--model.init_args.n_critic=1",
    "--model.init_args.num_fixed=4",
    "--model.init_args.metrics.init_args.features=gan_lightning.mnist.MNISTFeatures",
    "--model.init_args.metrics.init_args.features.init_args.digit_box=20",
    "--model.init_args.metrics.init_args.num_samples=64",
    "--trainer.limit_val_batches=2",
    "--trainer.val_check_interval=2",
    "--trainer.num_sanity_val_steps=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.log_every_n_steps=1",
]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-iteration CLI run of configs/wgan.yaml at 8×8 with CSV logs: its run folder."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("run")
    GANLightningCLI(
        args=[
            "fit",
            "--config",
            WGAN,
            *TINY,
            "--trainer.max_steps=4",
            "--trainer.logger=lightning.pytorch.loggers.CSVLogger",
            f"--trainer.logger.init_args.save_dir={root}",
            "--trainer.logger.init_args.name=tiny",
            f"--trainer.default_root_dir={root}",
        ]
    )
    (run,) = (root / "tiny").iterdir()
    return run


def test_fit_logs_fid_and_keeps_the_best_checkpoint_by_fid(tiny_run: Path) -> None:
    names = sorted(path.name for path in (tiny_run / "checkpoints").iterdir())
    assert "last.ckpt" in names
    assert any(name.startswith("best_fid_") for name in names), names
    rows = list(csv.DictReader((tiny_run / "metrics.csv").open()))
    fids = [float(row["val/fid"]) for row in rows if row.get("val/fid")]
    floors = [float(row["val/fid_floor"]) for row in rows if row.get("val/fid_floor")]
    assert len(fids) == 2 and len(floors) == 1  # every validation; the floor once
    assert any(row.get("val/modes_covered") for row in rows) and any(row.get("val/class_kl") for row in rows)
    state = torch.load(tiny_run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    (checkpointing,) = [value for key, value in state["callbacks"].items() if key.startswith("BestCheckpoint")]
    assert checkpointing["monitor"] == "val/fid"
    assert float(checkpointing["best_model_score"]) == pytest.approx(min(fids), rel=1e-5)
    assert Path(checkpointing["best_model_path"]).name.startswith("best_fid_")


def test_evaluate_prints_a_table_and_writes_every_metric_with_its_floor(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "metrics.json"
    checkpoint = tiny_run / "checkpoints" / "last.ckpt"
    main(["evaluate", str(checkpoint), "--num-samples", "64", "--digit-box", "20", "--out", str(out)])
    table = capsys.readouterr().out
    assert "fid" in table and "floor" in table and "features: mnist" in table
    record = json.loads(out.read_text())
    assert record["feature_network"] == "mnist" and record["generator"] == "ema"
    assert record["sample_counts"] == {"reference": 500, "floor": 64, "generated": 64}  # --data.init_args.val_size=500
    for name in ("fid", "kid", "precision", "recall", "inception_score", "modes_covered", "class_kl"):
        entry = record["metrics"][name]
        assert entry["floor"] is not None, name
    assert record["metrics"]["fid"]["floor"] < record["metrics"]["fid"]["value"]
    again = tmp_path / "again.json"
    main(["evaluate", str(checkpoint), "--num-samples", "64", "--digit-box", "20", "--out", str(again)])
    assert json.loads(again.read_text())["metrics"] == record["metrics"]  # seeded: reproducible


def test_sample_writes_grid_images_and_interpolation(tiny_run: Path, tmp_path: Path) -> None:
    checkpoint = str(tiny_run / "checkpoints" / "last.ckpt")
    args = ["--grid-size", "16", "--num-images", "5", "--interpolations", "3", "--steps", "6"]
    main(["sample", checkpoint, "--out", str(tmp_path / "a"), *args])
    main(["sample", checkpoint, "--out", str(tmp_path / "b"), *args])
    assert sorted(p.name for p in (tmp_path / "a" / "images").iterdir()) == [f"{i:06d}.png" for i in range(5)]
    assert Image.open(tmp_path / "a" / "images" / "000000.png").size == (8, 8)
    assert Image.open(tmp_path / "a" / "grid.png").size == (4 * 10 + 2, 4 * 10 + 2)  # 4×4 of 8 px, 2 px gaps
    assert Image.open(tmp_path / "a" / "interpolation.png").size == (6 * 10 + 2, 3 * 10 + 2)
    for name in ("grid.png", "interpolation.png", "images/000004.png"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_lightning_validate_with_ckpt_path_logs_fid(tiny_run: Path) -> None:
    cli = GANLightningCLI(
        args=[
            "validate",
            "--config",
            str(tiny_run / "config.yaml"),
            "--ckpt_path",
            str(tiny_run / "checkpoints" / "last.ckpt"),
            "--trainer.logger=false",
            f"--trainer.default_root_dir={tiny_run / 'validate'}",
        ]
    )
    metrics = cli.trainer.callback_metrics
    assert torch.isfinite(metrics["val/fid"]) and "val/fid_floor" in metrics and "val/modes_covered" in metrics


def test_module_rebuilds_from_checkpoint_or_config_and_says_what_is_missing(tiny_run: Path, tmp_path: Path) -> None:
    checkpoint = tiny_run / "checkpoints" / "last.ckpt"
    found, used = load_module(checkpoint, metrics=None)  # config.yaml found next to checkpoints/
    assert used == tiny_run / "config.yaml" and not len(found.metrics)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    assert all(torch.equal(found.state_dict()[key], value) for key, value in state.items())
    copied = tmp_path / "elsewhere" / "copy.ckpt"
    copied.parent.mkdir()
    copied.write_bytes(checkpoint.read_bytes())
    with pytest.raises(FileNotFoundError, match="--config"):
        load_module(copied)
    explicit, _ = load_module(copied, tiny_run / "config.yaml")
    latent = torch.randn(3, found.latent_dim)
    assert torch.equal(found.generate(latent), explicit.generate(latent))


def test_slerp_keeps_endpoints_and_norm() -> None:
    start, end = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 3.0]])
    path = slerp(start, end, torch.linspace(0, 1, 5))[0]
    assert torch.allclose(path[0], start[0], atol=1e-5) and torch.allclose(path[-1], end[0], atol=1e-5)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 3.0), atol=1e-5)


def test_unknown_options_fail_clearly(tiny_run: Path, tmp_path: Path) -> None:
    checkpoint = str(tiny_run / "checkpoints" / "last.ckpt")
    with pytest.raises(SystemExit, match=r"^error: --steps must be at least 2"):  # one line, no traceback
        main(["sample", checkpoint, "--out", str(tmp_path), "--steps", "1"])
    with pytest.raises(FileNotFoundError, match="Checkpoint not found"):  # the type beneath, for callers
        run(["evaluate", str(tmp_path / "missing.ckpt")])


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


def test_metrics_off_still_writes_periodic_and_last_checkpoints(tmp_path: Path) -> None:
    """wgan.yaml keeps the best by val/fid; with the metrics switched off the run must not
    die at the first validation, and a preempted job must find periodic checkpoints."""
    without_metrics = [arg for arg in TINY if not arg.startswith("--model.init_args.metrics")]
    with pytest.warns(UserWarning, match="does not log"):
        GANLightningCLI(
            args=[
                "fit",
                "--config",
                WGAN,
                *without_metrics,
                "--model.init_args.metrics=null",
                "--checkpoint.every_n_train_steps=2",
                "--checkpoint.save_top_k=-1",
                "--trainer.max_steps=4",
                "--trainer.logger=false",
                f"--trainer.default_root_dir={tmp_path}",
            ]
        )
    names = sorted(path.name for path in (tmp_path / "checkpoints").iterdir())
    assert names == ["last.ckpt", "step_0000002.ckpt", "step_0000004.ckpt"]
