"""Video generation (MoCoGAN on Moving MNIST): the data, the networks, the task (fit, exact
resume, untouched trajectory), GIF/strip/W&B logging, the sample command and the metrics."""

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
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image, ImageSequence
from torch.utils.data import default_collate

from gan_lightning.callbacks import SampleGrid
from gan_lightning.cli import GANLightningCLI
from gan_lightning.commands.sample import build_parser, write_samples
from gan_lightning.data import VideoFolderDataModule, VideoReaderMissingError
from gan_lightning.data.video_folder import ShortClipsError, has_pyav
from gan_lightning.loggers import WandbLogger
from gan_lightning.loggers.clips import film_strip, grid_frames, save_gif
from gan_lightning.metrics import ClipScores
from gan_lightning.metrics.video import clip_motion
from gan_lightning.mnist import ClipDigits, MovingMNISTDataModule, clip_statistics
from gan_lightning.mnist.clip_reading import consistency, read_clip_digits
from gan_lightning.mnist.moving import bounce
from gan_lightning.networks import DCGANDiscriminator, MoCoGANGenerator, TranslatingGenerator, VideoDiscriminator
from gan_lightning.networks.video import LayerNoise
from gan_lightning.tasks import VideoGAN
from gan_lightning.tasks.video import sample_frames
from tests.conftest import REPO_ROOT, assert_same_state, tiny_trainer, with_optimization
from tests.helpers.wandb_records import read_records

CONFIG = REPO_ROOT / "configs" / "video.yaml"
CANVAS, DIGIT, FRAMES = 16, 12, 4


def tiny_data(**overrides: Any) -> MovingMNISTDataModule:
    """48 training clips (six batches of 8: short runs cross an epoch) and 16 held-out ones."""
    kwargs: dict[str, Any] = {
        "canvas": CANVAS,
        "digit_size": DIGIT,
        "num_frames": FRAMES,
        "train_clips": 48,
        "val_clips": 16,
        "batch_size": 8,
    }
    kwargs.update(overrides)
    return MovingMNISTDataModule(**kwargs)


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


def moving_square(frames: int = 6, size: int = 16, step: int = 1) -> torch.Tensor:
    """One (1, 1, T, size, size) clip: a 3-px white square moving ``step`` px right per frame."""
    clip = torch.full((1, 1, frames, size, size), -1.0)
    for t in range(frames):
        clip[0, 0, t, 5:8, 2 + t * step : 5 + t * step] = 1.0
    return clip


# ---------------------------------------------------------------------- Moving MNIST
def test_a_clip_is_a_function_of_seed_and_index():
    first, again = tiny_data(), tiny_data()
    first.setup(), again.setup()
    assert torch.equal(first.train_set[5]["video"], again.train_set[5]["video"])
    assert torch.equal(first.val_set[3]["video"], again.val_set[3]["video"])
    assert not torch.equal(first.train_set[5]["video"], first.train_set[6]["video"])
    other = tiny_data(seed=1)
    other.setup()
    assert not torch.equal(first.train_set[5]["video"], other.train_set[5]["video"])


def test_digits_bounce_and_stay_whole_inside_the_canvas():
    data = tiny_data(speed=(2.0, 3.5), num_frames=24, train_clips=32)  # fast: many bounces
    data.setup()
    clips = default_collate([data.train_set[i] for i in range(32)])["video"]
    assert clips.shape == (32, 1, 24, CANVAS, CANVAS) and clips.min() >= -1 and clips.max() <= 1
    ink = (clips + 1).sum(dim=(1, 3, 4))  # (B, T): a digit cut by an edge would lose ink
    assert torch.allclose(ink, ink[:, :1].expand_as(ink), rtol=1e-5)
    positions = bounce(torch.tensor([3.5]), torch.tensor([1.0]), 6, limit=4.0)
    assert positions.flatten().tolist() == [3.5, 3.5, 2.5, 1.5, 0.5, 0.5]  # reflected at both walls
    path = bounce(torch.rand(100, 2) * 4, (torch.rand(100, 2) * 2 - 1) * 3.9, 50, limit=4.0)
    with pytest.raises(ValueError, match="slower than"):
        bounce(torch.zeros(1), torch.tensor([5.0]), 3, limit=4.0)
    assert path.min() >= 0 and path.max() <= 4


def test_held_out_clips_use_only_held_out_digits_and_labels_name_them():
    data = tiny_data()
    data.setup()
    train, held_out = data.train_set.digits.flatten(1), data.val_set.digits.flatten(1)
    assert len(held_out) == 500 and len(train) == 4500
    assert not (torch.cdist(held_out, train).min(dim=1).values == 0).any()
    item = data.val_set[0]
    assert item["label"].dim() == 0
    digits, _ = read_clip_digits(item["video"].unsqueeze(0), DIGIT)
    two = tiny_data(num_digits=2)
    two.setup()
    assert two.train_set[0]["label"].shape == (2,)
    assert digits.shape == (1, FRAMES)


@pytest.mark.parametrize(
    "bad", [{"digit_size": 40}, {"num_digits": 3}, {"speed": (1.0, 9.0)}, {"channels": 2}, {"num_frames": 0}]
)
def test_bad_moving_mnist_settings_are_clear_errors(bad: dict[str, Any]):
    with pytest.raises(ValueError, match=next(iter(bad))):
        tiny_data(**bad)


# ---------------------------------------------------------------------- your own clips
def write_frames(folder: Path, count: int, size: int = 10) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((size, size + 4), 20 * i, dtype=np.uint8)).save(folder / f"{i:03d}.png")


def test_frame_folders_and_gifs_become_clips_and_short_clips_are_skipped(tmp_path: Path):
    for name in ("a", "b", "c"):
        write_frames(tmp_path / "train" / name, 6)
    write_frames(tmp_path / "train" / "short", 2)
    frames = [Image.fromarray(np.full((12, 12), 40 * i, dtype=np.uint8)) for i in range(5)]
    frames[0].save(tmp_path / "train" / "d.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    write_frames(tmp_path / "val" / "v", 4)
    data = VideoFolderDataModule(tmp_path, num_frames=4, image_size=8, channels=1, batch_size=2)
    with pytest.warns(UserWarning, match=r"1 of 5 clips have fewer than the 4 frames.*short \(2 frames\)"):
        data.setup()
    assert len(data.train_set) == 4 and len(data.val_set) == 1
    held_out = data.val_set[0]["video"]
    assert held_out.shape == (1, 4, 8, 8)
    levels = ((held_out[0, :, 0, 0] + 1) * 127.5).round().tolist()
    assert levels == [0, 20, 40, 60]  # the first four frames, in name order
    gif = data.train_set[3]["video"]  # "d.gif" sorts after a, b, c
    assert gif.shape == (1, 4, 8, 8) and len(set(gif[0, :, 0, 0].tolist())) == 4
    batch = next(iter(data.train_dataloader()))
    assert batch["video"].shape == (2, 1, 4, 8, 8)
    strict = VideoFolderDataModule(tmp_path, num_frames=4, image_size=8, short_clips="error")
    with pytest.raises(ShortClipsError, match="Lower num_frames"):
        strict.setup()


@pytest.mark.skipif(has_pyav(), reason="PyAV is installed here")
def test_video_files_without_pyav_say_how_to_install_it(tmp_path: Path):
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "walk.mp4").write_bytes(b"\x00" * 64)
    write_frames(tmp_path / "clips" / "a", 4)
    with pytest.raises(VideoReaderMissingError, match=r"walk\.mp4.*pip install av"):
        VideoFolderDataModule(tmp_path / "clips", num_frames=4).setup()


# ---------------------------------------------------------------------- networks
def test_clip_shapes_through_generator_and_both_discriminators():
    generator = MoCoGANGenerator(8, 4, 3, num_frames=6, image_size=16, channels=3, base_width=4)
    assert generator.latent_dim == 8 + 4 + 6 * 3
    clips = generator(torch.randn(5, generator.latent_dim))
    assert clips.shape == (5, 3, 6, 16, 16) and clips.abs().max() <= 1
    frames = sample_frames(clips, 2)
    assert frames.shape == (10, 3, 16, 16)
    assert DCGANDiscriminator(16, 3, base_width=4)(frames).shape == (10,)
    assert VideoDiscriminator(6, 16, 3, base_width=4)(clips).shape == (5,)
    for size, frames_count in ((32, 16), (64, 16), (32, 8)):
        critic = VideoDiscriminator(frames_count, size, 1, base_width=2, norm="spectral")
        assert critic(torch.zeros(2, 1, frames_count, size, size)).shape == (2,)
    with pytest.raises(ValueError, match=r"num_frames/image_size/channels"):
        VideoDiscriminator(6, 16, 3)(torch.zeros(1, 3, 5, 16, 16))
    with pytest.raises(ValueError, match=r"latents of shape \(B, 30\)"):
        generator(torch.randn(2, 10))


def test_video_discriminator_has_the_authors_kernels_strides_and_padding():
    """sergeytulyakov/mocogan's VideoDiscriminator at 64 px and 16 frames: four Conv3d with a
    4×4×4 kernel, stride (1, 2, 2), padding (0, 1, 1) (16 → 13 → 10 → 7 → 4 steps), then a
    4×4×4 conv to one score; short clips keep stride 1 and no padding in time."""
    convs = [m for m in VideoDiscriminator(16, 64, 1, base_width=2).net if isinstance(m, torch.nn.Conv3d)]
    layers = [(c.kernel_size, c.stride, c.padding) for c in convs]
    assert layers == [((4, 4, 4), (1, 2, 2), (0, 1, 1))] * 4 + [((4, 4, 4), (1, 1, 1), (0, 0, 0))]
    short = [m for m in VideoDiscriminator(6, 16, 1, base_width=2).net if isinstance(m, torch.nn.Conv3d)]
    assert [c.kernel_size[0] for c in short] == [4, 3, 1] and all(c.padding[0] == 0 for c in short)


def test_video_discriminator_adds_its_noise_before_every_strided_layer_in_training_only():
    """MoCoGAN's D_V adds N(0, σ²) before each of its strided convs, not only at the input."""
    discriminator = VideoDiscriminator(16, 32, 1, base_width=2, noise=0.5)
    modules = list(discriminator.net)
    noisy = [i for i, m in enumerate(modules) if isinstance(m, LayerNoise)]
    strided = [i for i, m in enumerate(modules) if isinstance(m, torch.nn.Conv3d) and m.stride[1] == 2]
    assert [i + 1 for i in noisy] == strided and len(strided) == 3
    added: list[torch.Tensor] = []
    for i in noisy:
        modules[i].register_forward_hook(lambda module, inputs, output: added.append(output - inputs[0]))
    clips = torch.rand(4, 1, 16, 32, 32) * 2 - 1
    torch.manual_seed(0)
    discriminator.train()(clips)
    assert len(added) == 3 and all(abs(float(noise.std()) - 0.5) < 0.05 for noise in added)
    added.clear()
    discriminator.eval()(clips)
    assert all(torch.equal(noise, torch.zeros_like(noise)) for noise in added)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        VideoDiscriminator(noise=-0.1)


def test_content_is_held_and_motion_varies_within_a_clip():
    """Same z_C with different motion noise: the clips differ; the motion codes of one clip
    change from frame to frame (the GRU runs on fresh ε(t))."""
    torch.manual_seed(0)
    generator = MoCoGANGenerator(8, 4, 4, num_frames=5, image_size=8, base_width=4).eval()
    latent = torch.randn(1, generator.latent_dim)
    content, hidden, noise = generator.split_latent(latent)
    codes = generator.motion_codes(hidden, noise)
    assert codes.shape == (1, 5, 4) and not torch.allclose(codes[0, 0], codes[0, 1])
    other = latent.clone()
    other[:, 12:] = torch.randn(1, 20)
    assert torch.equal(generator.split_latent(other)[0], content)
    assert not torch.allclose(generator(latent), generator(other))


def test_translating_generator_only_moves_one_image_by_the_motion_shifts():
    """Every frame is the clip's appearance image shifted by whole pixels when the motion head
    asks for whole pixels; where the image leaves the canvas it is black (-1), not grey."""
    torch.manual_seed(0)
    generator = TranslatingGenerator(8, 4, 3, num_frames=4, image_size=16, base_width=4, max_shift=4.0).eval()
    latent = torch.randn(2, generator.latent_dim)
    with torch.no_grad():
        appearance = generator.frames(generator.split_latent(latent)[0])
        generator.shift.weight.zero_()
        generator.shift.bias.copy_(torch.tensor([20.0, -20.0]))  # tanh → (1, -1): 4 px right, 4 px up
        clips = generator(latent)
    assert clips.shape == (2, 1, 4, 16, 16)
    for t in range(4):
        assert torch.allclose(clips[:, :, t, :12, 4:], appearance[:, :, 4:, :12], atol=1e-5)
        assert torch.equal(clips[:, :, t, 12:, :], torch.full_like(clips[:, :, t, 12:, :], -1.0))
        assert torch.equal(clips[:, :, t, :, :4], torch.full_like(clips[:, :, t, :, :4], -1.0))
    assert generator.shifts(torch.randn(3, 5, 4) * 100).abs().max() <= 4.0
    with pytest.raises(ValueError, match="max_shift"):
        TranslatingGenerator(max_shift=0)


def test_sampled_frames_are_distinct_frames_of_their_own_clip():
    clips = torch.arange(3 * 5, dtype=torch.float).view(3, 1, 5, 1, 1).expand(-1, -1, -1, 2, 2)
    frames = sample_frames(clips, 3).view(3, 3, -1)[:, :, 0]
    for clip, chosen in enumerate(frames):
        assert len(set(chosen.tolist())) == 3 and all(5 * clip <= v < 5 * clip + 5 for v in chosen.tolist())


# ---------------------------------------------------------------------- the task
def test_a_short_fit_updates_all_three_networks_and_logs_the_metrics(tmp_path: Path):
    pl.seed_everything(0)
    model = tiny_video_gan(metrics=[ClipScores(num_clips=16), ClipDigits(digit_size=DIGIT, num_clips=16)])
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    trainer = tiny_trainer(tmp_path, 2, limit_val_batches=2, val_check_interval=2)
    trainer.fit(model, datamodule=tiny_data())
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
        callbacks.append(ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=1, save_top_k=-1))
    trainer = tiny_trainer(folder, RESUME_STEPS, callbacks, val_check_interval=3, limit_val_batches=1)
    return trainer, tiny_video_gan(ema_kimg=0.01)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("video")
    trainer, model = resumable_run(folder, checkpoints=True)
    trainer.fit(model, datamodule=tiny_data())
    return {
        "folder": folder,
        "state": model.state_dict(),
        "optimizers": [opt.state_dict() for opt in trainer.optimizers],
        "rng": torch.get_rng_state(),
    }


@pytest.mark.parametrize("checkpoint", ["step=4.ckpt", "step=6.ckpt"])
def test_resumed_run_equals_uninterrupted_run(uninterrupted: dict[str, Any], tmp_path: Path, checkpoint: str):
    trainer, model = resumable_run(tmp_path, checkpoints=False)
    trainer.fit(model, datamodule=tiny_data(), ckpt_path=uninterrupted["folder"] / checkpoint)
    assert trainer.global_step == RESUME_STEPS
    assert_same_state(model.state_dict(), uninterrupted["state"], "model")
    assert_same_state([opt.state_dict() for opt in trainer.optimizers], uninterrupted["optimizers"], "optimizers")
    assert torch.equal(torch.get_rng_state(), uninterrupted["rng"]), "random stream differs after resuming"


def test_validation_and_gifs_do_not_change_the_training_trajectory(tmp_path: Path):
    states = []
    for looking in (True, False):
        pl.seed_everything(0)
        model = tiny_video_gan()
        callbacks = [SampleGrid(every_n_steps=1)] if looking else []
        options = {"val_check_interval": 2, "limit_val_batches": 2} if looking else {"limit_val_batches": 0}
        tiny_trainer(tmp_path / str(looking), 4, callbacks, **options).fit(model, datamodule=tiny_data())
        states.append(model.state_dict())
    assert_same_state(states[0], states[1], "looking at the model moved its weights")


# ---------------------------------------------------------------------- GIFs, strips, W&B
def gif_pixels(path: Path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        return [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]


def same_frames(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_gif_frames_hold_the_pixels_of_the_film_strip(tmp_path: Path):
    clips = torch.cat([moving_square(6, 16), moving_square(6, 16, step=2) * 0.3, -moving_square(6, 16)])
    save_gif(grid_frames(clips, nrow=2), tmp_path / "c.gif", fps=10)
    strip = np.asarray(Image.fromarray(film_strip(clips).mul(255).add(0.5).clamp(0, 255).byte()[0].numpy()))
    frames = gif_pixels(tmp_path / "c.gif")
    assert len(frames) == 6 and frames[0].shape == (2 + 2 * 18, 2 + 2 * 18)
    with Image.open(tmp_path / "c.gif") as gif:
        assert gif.info["loop"] == 0 and gif.info["duration"] == 100
    for t, frame in enumerate(frames):
        for clip in range(3):
            row, col = divmod(clip, 2)  # GIF: 2 clips per row; strip: clip per row, frame per column
            in_gif = frame[2 + 18 * row : 18 * (row + 1), 2 + 18 * col : 18 * (col + 1)]
            in_strip = strip[2 + 18 * clip : 18 * (clip + 1), 2 + 18 * t : 18 * (t + 1)]
            assert np.array_equal(in_gif, in_strip), f"clip {clip} frame {t}"
    assert len(np.unique(frames[0])) >= 3  # white square, grey square, black background, white padding


def test_sample_grid_writes_a_gif_and_a_strip_and_wandb_holds_the_video(tmp_path: Path):
    from lightning.pytorch.loggers import TensorBoardLogger
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    torch.manual_seed(0)
    tensorboard = TensorBoardLogger(tmp_path, name="tb")
    wandb = WandbLogger(project="p", save_dir=str(tmp_path), offline=True)
    trainer = tiny_trainer(tmp_path, 2, [SampleGrid(every_n_steps=2)], logger=[tensorboard, wandb], limit_val_batches=0)
    trainer.fit(tiny_video_gan(), datamodule=tiny_data())
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


# ---------------------------------------------------------------------- metrics on hand-made clips
def test_a_static_clip_has_no_motion_and_a_moving_square_moves_its_speed():
    static = moving_square(6)[:, :, :1].expand(-1, -1, 6, -1, -1)
    assert clip_motion(static).item() == 0.0
    assert clip_motion(moving_square(6, step=1)).item() == pytest.approx(1.0)
    assert clip_motion(moving_square(6, step=2)).item() == pytest.approx(2.0)
    blank = torch.full((1, 1, 4, 8, 8), -1.0)
    assert clip_motion(blank).item() == 0.0  # no ink: centre of the canvas, not NaN


def test_consistency_is_the_share_of_frames_agreeing_with_the_majority():
    assert consistency(torch.tensor([[3, 3, 8, 3], [1, 1, 1, 1]])).tolist() == [0.75, 1.0]
    data = tiny_data(canvas=32, digit_size=20, num_frames=8)
    data.setup()
    item = data.val_set[0]
    repeated = item["video"][:, :1].expand(-1, 8, -1, -1).unsqueeze(0)  # one digit, held still
    stats = clip_statistics(repeated, 20)
    assert stats.consistency == 1.0 and stats.motion_mean == 0.0 and stats.static_fraction == 1.0
    digits, _ = read_clip_digits(item["video"].unsqueeze(0), 20)
    assert (digits == item["label"]).float().mean() >= 0.75  # the reading window finds the moving digit
