"""Video generation (MoCoGAN on Moving MNIST), the task: a short fit, the loss, instance noise,
fixed samples, exact resume, an untouched trajectory, GIFs/strips/W&B logging, the config and
the sample command. (The data, the networks and the clip metrics: mnist/, data/, networks/, metrics/.)"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from PIL import Image
from torch import Tensor

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.sample import build_parser, write_samples
from gan_lightning.loggers import WandbLogger
from gan_lightning.metrics import ClipScores
from gan_lightning.mnist import ClipDigits
from gan_lightning.networks import DCGANDiscriminator, MoCoGANGenerator, VideoDiscriminator
from gan_lightning.tasks import VideoGAN
from gan_lightning.tasks.video import mismatch_pairs, sample_frame_pairs, sample_frames, stack_pairs
from tests.conftest import CLIP_CANVAS as CANVAS
from tests.conftest import CLIP_DIGIT as DIGIT
from tests.conftest import CLIP_FRAMES as FRAMES
from tests.conftest import (
    REPO_ROOT,
    assert_same_end_of_training,
    assert_same_state,
    end_of_training,
    every_step_checkpoints,
    gif_pixels,
    same_frames,
    tiny_moving_mnist,
    tiny_trainer,
    with_optimization,
)
from tests.helpers.wandb_records import read_records

CONFIG = REPO_ROOT / "configs" / "video.yaml"


def tiny_video_gan(**overrides: Any) -> VideoGAN:
    kwargs: dict[str, Any] = {
        "generator": MoCoGANGenerator(8, 4, 4, FRAMES, CANVAS, 1, base_width=4),
        "image_discriminator": DCGANDiscriminator(CANVAS, 1, base_width=4),
        "video_discriminator": VideoDiscriminator(FRAMES, CANVAS, 1, base_width=4),
        "frames_per_clip": 2,
        "num_fixed": 4,
    }
    kwargs.update(overrides)
    return VideoGAN(**with_optimization(kwargs))


def test_sampled_frames_are_distinct_frames_of_their_own_clip():
    clips = torch.arange(3 * 5, dtype=torch.float).view(3, 1, 5, 1, 1).expand(-1, -1, -1, 2, 2)
    frames = sample_frames(clips, 3).view(3, 3, -1)[:, :, 0]
    for clip, chosen in enumerate(frames):
        assert len(set(chosen.tolist())) == 3 and all(5 * clip <= v < 5 * clip + 5 for v in chosen.tolist())


def test_a_short_fit_updates_all_three_networks_and_logs_the_metrics(tmp_path: Path):
    pl.seed_everything(0)
    model = tiny_video_gan(metrics=[ClipScores(num_clips=16), ClipDigits(digit_size=DIGIT, num_clips=16)])
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = tiny_trainer(tmp_path, 2, limit_val_batches=2, val_check_interval=2)
    trainer.fit(model, datamodule=tiny_moving_mnist())
    assert trainer.global_step == 2
    for prefix in ("generator.", "image_discriminator.", "video_discriminator."):
        moved = [not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith(prefix)]
        assert any(moved), f"{prefix} did not train"
    metrics = trainer.callback_metrics
    for key in ("train/d_image", "train/d_video", "train/g_video", "val/frame_fid", "val/consistency"):
        assert key in metrics, key
    assert metrics["val/real_consistency"] == 1.0 and metrics["val/real_motion_mean"] > 0.5


def test_generator_loss_is_the_weighted_sum_of_both_discriminators():
    torch.manual_seed(0)
    model = tiny_video_gan(image_weight=0.25, video_weight=2.0)
    real = torch.rand(4, 1, FRAMES, CANVAS, CANVAS) * 2 - 1
    fake = model.generator(model.sample_latent(4))
    torch.manual_seed(1)
    loss, stats = model.generator_main(real, fake)
    assert torch.allclose(loss, 0.25 * stats["g_image"] + 2.0 * stats["g_video"])
    torch.manual_seed(1)
    frames = sample_frames(fake, model.frames_per_clip)
    expected = model.objective.generator_loss(model.image_discriminator(frames))
    assert torch.allclose(stats["g_image"], expected)


def test_instance_noise_reaches_both_discriminators_only_when_asked():
    clips = torch.rand(2, 1, FRAMES, CANVAS, CANVAS) * 2 - 1
    for noise, differ in ((0.0, False), (0.5, True)):
        model = tiny_video_gan(instance_noise=noise).eval()
        torch.manual_seed(0)
        first = model.scores(clips)
        torch.manual_seed(1)
        second = model.scores(clips)
        assert torch.equal(first[1], second[1]) != differ  # D_V sees the same clips, noise aside
    with pytest.raises(ValueError, match="instance_noise"):
        tiny_video_gan(instance_noise=-1.0)


def test_frame_pairs_are_distinct_frames_of_one_clip_and_mismatched_pairs_cross_clips():
    clips = torch.arange(3 * 6, dtype=torch.float).view(3, 1, 6, 1, 1).expand(-1, -1, -1, 2, 2)
    pairs = sample_frame_pairs(clips, 3)  # (3 clips, 3 pairs, 2 frames, C, H, W)
    assert pairs.shape == (3, 3, 2, 1, 2, 2)
    for clip, chosen in enumerate(pairs[..., 0, 0, 0]):
        values = chosen.flatten().tolist()
        assert sorted(values) == list(range(6 * clip, 6 * clip + 6))  # every frame once: no frame in two pairs
    crossed = mismatch_pairs(pairs)[..., 0, 0, 0] // 6  # the clip each frame came from
    assert torch.equal(crossed[:, :, 0], torch.tensor([0, 1, 2]).view(3, 1).expand(3, 3))
    assert torch.equal(crossed[:, :, 1], torch.tensor([2, 0, 1]).view(3, 1).expand(3, 3))
    stacked = stack_pairs(pairs)
    assert stacked.shape == (9, 2, 2, 2) and torch.equal(stacked[4], pairs[1, 1, :, 0])


def tiny_pair_gan(**overrides: Any) -> VideoGAN:
    return tiny_video_gan(pair_discriminator=DCGANDiscriminator(CANVAS, 2, base_width=4), **overrides)


def test_pair_discriminator_judges_real_own_pairs_against_fake_and_mismatched_pairs():
    torch.manual_seed(0)
    model = tiny_pair_gan(pair_weight=0.5)
    seen: list[Tensor] = []
    model.pair_discriminator.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    real = torch.rand(3, 1, FRAMES, CANVAS, CANVAS) * 2 - 1
    fake = model.generator(model.sample_latent(3)).detach()
    torch.manual_seed(1)
    loss, stats = model.discriminator_main(real, fake)
    # real: 3 clips × 2 own pairs + as many mismatched ones; fake: 3 × 2 own pairs; 2 frames each
    assert [tuple(x.shape) for x in seen] == [(12, 2, CANVAS, CANVAS), (6, 2, CANVAS, CANVAS)]
    assert torch.allclose(loss, stats["d_image"] + stats["d_video"] + 0.5 * stats["d_pair"])
    real_logits, fake_logits = model.pair_discriminator(seen[0]), model.pair_discriminator(seen[1])
    expected = model.objective.discriminator_loss(real_logits[:6], torch.cat([fake_logits, real_logits[6:]]))
    assert torch.allclose(stats["d_pair"], expected)
    own, crossed = seen[0][:6].view(3, 2, 2, -1), seen[0][6:].view(3, 2, 2, -1)
    flat = real.transpose(1, 2).reshape(3, FRAMES, -1)
    for clip in range(3):  # own pairs: both frames of this clip; mismatched: the second of the previous clip
        assert all(any(torch.equal(f, g) for g in flat[clip]) for f in own[clip].flatten(0, 1))
        assert all(any(torch.equal(f, g) for g in flat[(clip - 1) % 3]) for f in crossed[clip, :, 1])
    with pytest.raises(ValueError, match="pairs_per_clip"):
        tiny_pair_gan(pairs_per_clip=3, num_frames=FRAMES)  # 4 frames hold 2 pairs


def test_pair_term_reaches_the_generator_and_leaves_the_other_scores_alone():
    torch.manual_seed(0)
    model = tiny_pair_gan(image_weight=0.25)
    fake = model.generator(model.sample_latent(2))
    torch.manual_seed(1)
    loss, stats = model.generator_main(fake.detach(), fake)
    assert torch.allclose(loss, 0.25 * stats["g_image"] + stats["g_video"] + stats["g_pair"])
    model.generator.zero_grad()
    model.scores(fake)[2].sum().backward()  # D_P's logits alone
    grads = [p.grad for p in model.generator.parameters() if p.grad is not None]
    assert grads and any(g.abs().sum() > 0 for g in grads)
    # Without D_P the task draws and scores exactly as before: D_I and D_V see the same frames.
    plain = tiny_video_gan()
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("pair_")})
    clips = fake.detach()
    torch.manual_seed(2)
    with_pairs = model.scores(clips)
    torch.manual_seed(2)
    without = plain.scores(clips)
    assert without[2] is None and torch.equal(with_pairs[0], without[0]) and torch.equal(with_pairs[1], without[1])
    assert "pair_discriminator" not in {n.split(".")[0] for n, _ in plain.named_parameters()}


def test_sample_fixed_repeats_and_leaves_the_training_rng_alone():
    model = tiny_video_gan()
    state = torch.get_rng_state()
    first = model.sample_fixed()
    assert torch.equal(torch.get_rng_state(), state)
    assert first.shape == (4, 1, FRAMES, CANVAS, CANVAS) and torch.equal(first, model.sample_fixed())


RESUME_STEPS = 8  # six batches per epoch: crosses an epoch boundary


def resumable_run(folder: Path, checkpoints: bool) -> tuple[pl.Trainer, VideoGAN]:
    pl.seed_everything(0)
    callbacks: list[pl.Callback] = [SampleGrid(every_n_steps=3, every_n_epochs=None)]
    if checkpoints:
        callbacks.append(every_step_checkpoints(folder))
    trainer = tiny_trainer(folder, RESUME_STEPS, callbacks, val_check_interval=3, limit_val_batches=1)
    return trainer, tiny_video_gan(ema_kimg=0.01)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("video")
    trainer, model = resumable_run(folder, checkpoints=True)
    trainer.fit(model, datamodule=tiny_moving_mnist())
    return {"folder": folder, **end_of_training(trainer, model)}


@pytest.mark.parametrize("checkpoint", ["step=4.ckpt", "step=6.ckpt"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted: dict[str, Any], tmp_path: Path, checkpoint: str):
    trainer, model = resumable_run(tmp_path, checkpoints=False)
    trainer.fit(model, datamodule=tiny_moving_mnist(), ckpt_path=uninterrupted["folder"] / checkpoint)
    assert trainer.global_step == RESUME_STEPS
    assert_same_end_of_training(trainer, model, uninterrupted)


def test_validation_and_gifs_do_not_change_the_training_trajectory(tmp_path: Path):
    states = []
    for looking in (True, False):
        pl.seed_everything(0)
        model = tiny_video_gan()
        callbacks = [SampleGrid(every_n_steps=1)] if looking else []
        options = {"val_check_interval": 2, "limit_val_batches": 2} if looking else {"limit_val_batches": 0}
        tiny_trainer(tmp_path / str(looking), 4, callbacks, **options).fit(model, datamodule=tiny_moving_mnist())
        states.append(model.state_dict())
    assert_same_state(states[0], states[1], "looking at the model moved its weights")


def test_sample_grid_writes_a_gif_and_a_strip_and_wandb_holds_the_video(tmp_path: Path):
    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    torch.manual_seed(0)
    tensorboard = TensorBoardLogger(tmp_path, name="tb")
    wandb = WandbLogger(project="p", save_dir=str(tmp_path), offline=True)
    trainer = tiny_trainer(tmp_path, 2, [SampleGrid(every_n_steps=2)], logger=[tensorboard, wandb], limit_val_batches=0)
    trainer.fit(tiny_video_gan(), datamodule=tiny_moving_mnist())
    run_folder = Path(wandb.experiment.settings.sync_dir)
    wandb.experiment.finish()

    samples = Path(tensorboard.log_dir) / "samples"
    gif, strip = samples / "step_0000002.gif", samples / "step_0000002.png"
    assert len(gif_pixels(gif)) == FRAMES
    assert Image.open(strip).size == (2 + FRAMES * (CANVAS + 2), 2 + 4 * (CANVAS + 2))
    logged = [
        {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
        for record in read_records(next(run_folder.glob("run-*.wandb")))
        if record.WhichOneof("record_type") == "history"
    ]
    (entry,) = [values for values in logged if "samples/videos" in values]
    (video,) = entry["samples/videos"]
    assert video["_type"] == "video-file" and entry["trainer/global_step"] == 2 and video["caption"] == "step 2"
    assert same_frames(gif_pixels(run_folder / "files" / video["path"]), gif_pixels(gif))
    events = EventAccumulator(tensorboard.log_dir, size_guidance={"images": 0})
    events.Reload()
    (image,) = events.Images("samples")
    on_disk = np.asarray(Image.open(strip).convert("L"))
    from_tensorboard = np.asarray(Image.open(io.BytesIO(image.encoded_image_string)).convert("L"))
    assert np.array_equal(on_disk, from_tensorboard)


# ---------------------------------------------------------------------- config and sample command
@pytest.fixture(scope="module")
def config_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[GANLightningCLI, Path]:
    root = tmp_path_factory.mktemp("video_config")
    args = ["fit", "--config", str(CONFIG), "--trainer.max_steps=2", "--trainer.accelerator=cpu"]
    args += ["--trainer.logger=false", "--trainer.limit_val_batches=1", "--trainer.val_check_interval=2"]
    args += ["--trainer.num_sanity_val_steps=0", "--trainer.enable_progress_bar=false"]
    args += [f"--trainer.default_root_dir={root}", "--data.init_args.batch_size=8"]
    args += ["--checkpoint.every_n_train_steps=null"]
    torch.set_num_threads(1)
    return GANLightningCLI(args=args), root


def test_config_trains_and_writes_gifs(config_run: tuple[GANLightningCLI, Path]):
    cli, root = config_run
    assert cli.trainer.global_step == 2 and isinstance(cli.model, VideoGAN)
    assert cli.model.generator.num_frames == 16 and cli.model.metrics[1].digit_size == 20
    assert {"val/frame_fid", "val/motion_mean", "val/consistency", "val/real_consistency"} <= set(
        cli.trainer.callback_metrics
    )
    assert list((root / "samples").glob("step_*.gif")) and list((root / "samples").glob("step_*.png"))


def test_end_of_fit_summary_points_to_clips_not_to_evaluate(config_run: tuple[GANLightningCLI, Path]):
    from gan_lightning.callbacks.summary import RunSummary

    cli, root = config_run
    lines = RunSummary().lines(cli.trainer, root)
    next_step = next(line for line in lines if line.startswith("next"))
    assert "gan-lightning sample" in next_step and "--num-images 16" in next_step
    assert not any("gan-lightning evaluate" in line for line in lines)


def test_sample_command_writes_clips_from_a_video_checkpoint(config_run: tuple[GANLightningCLI, Path]):
    _, root = config_run
    out = root / "export"
    args = build_parser().parse_args([str(root / "checkpoints" / "last.ckpt"), "--out", str(out)])
    args = argparse.Namespace(**{**vars(args), "grid_size": 4, "num_images": 3, "batch_size": 2})
    written = write_samples(args)
    assert sorted(p.name for p in (out / "clips").iterdir()) == ["000000.gif", "000001.gif", "000002.gif"]
    clip = gif_pixels(out / "clips" / "000001.gif")
    assert len(clip) <= 16 and clip[0].shape == (32, 32)  # no border around a single clip
    assert written["grid"] == out / "grid.gif" and Image.open(out / "grid.png").size == (2 + 16 * 34, 2 + 4 * 34)
    again = root / "again"
    write_samples(argparse.Namespace(**{**vars(args), "out": again}))
    assert same_frames(gif_pixels(again / "clips" / "000001.gif"), clip)  # seeded
