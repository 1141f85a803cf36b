"""Super-resolution on photographs: scikit-learn's two bundled photos (china.jpg, flower.jpg,
427×640 RGB, no download) as a folder of large images — many random crops per image per epoch,
fixed held-out tiles, the SRResNet that starts as bicubic interpolation, configs/srgan_vgg.yaml."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_sample_images

from gan_lightning.cli import GANLightningCLI
from gan_lightning.data import SuperResolutionFolderDataModule, bicubic_downsample
from gan_lightning.data.super_resolution import TooFewImagesError, grid_tiles
from gan_lightning.metrics import bicubic_upscale, psnr
from gan_lightning.networks import SRResNet
from gan_lightning.networks.srresnet import clamp_straight_through
from tests.conftest import REPO_ROOT
from tests.test_configs import tiny_run


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``train/china.png`` and ``held_out/flower.png``: a folder of one large photo each."""
    root = tmp_path_factory.mktemp("photos")
    bundled = load_sample_images()
    folders = {}
    for name, image in zip(("china", "flower"), bundled.images, strict=True):
        folder = root / ("train" if name == "china" else "held_out")
        folder.mkdir()
        Image.fromarray(image).save(folder / f"{name}.png")
        folders[name] = folder
    return folders


def data(photos: dict[str, Path], **overrides) -> SuperResolutionFolderDataModule:
    settings = {"root": photos["china"], "val_root": photos["flower"], "crop_size": 96, "batch_size": 16}
    module = SuperResolutionFolderDataModule(**(settings | overrides))
    module.setup()
    return module


# ----------------------------------------------------------------------------- the generator


def test_psnr_is_ten_log10_of_one_over_the_mse_on_unit_pixels():
    target = torch.zeros(1, 3, 16, 16)
    pred = target + 0.1  # 0.05 on [0, 1] pixels: MSE 0.0025
    assert psnr(pred, target).item() == pytest.approx(10 * math.log10(1 / 0.0025), abs=1e-4)  # 26.02 dB


def test_bicubic_psnr_of_the_held_out_photo_tiles(photos):
    """The baseline every SR number here stands beside, pinned: 24 tiles of 96 px cut from
    flower.jpg (a 4 × 6 grid), LR by antialiased bicubic ×4, upscaled by bicubic."""
    module = data(photos)
    assert len(module.val_set) == 24
    batches = list(module.val_dataloader())
    lr, hr = (torch.cat([batch[key] for batch in batches]) for key in ("source", "target"))
    per_tile = psnr(bicubic_upscale(lr, 4), hr, reduction="none")
    unit = lambda images: (images.double().clamp(-1, 1) + 1) / 2  # noqa: E731
    by_hand = 10 * torch.log10(1 / ((unit(bicubic_upscale(lr, 4)) - unit(hr)) ** 2).mean((1, 2, 3)))
    torch.testing.assert_close(per_tile.double(), by_hand, rtol=0, atol=1e-3)
    assert per_tile.mean().item() == pytest.approx(36.23, abs=0.05)  # libjpeg versions may differ a little


def test_the_residual_srresnet_is_bicubic_interpolation_until_trained():
    lr = torch.rand(2, 3, 6, 5) * 2 - 1
    generator = SRResNet(3, scale=4, width=8, num_blocks=2).eval()
    torch.testing.assert_close(generator(lr), bicubic_upscale(lr, 4), rtol=0, atol=0)
    last = generator.tail[-1]
    with torch.no_grad():
        last.bias.fill_(0.25)  # G's correction: +0.25 everywhere, within range or clamped
    expected = (bicubic_upscale(lr, 4) + 0.25).clamp(-1, 1)
    torch.testing.assert_close(generator(lr), expected, rtol=0, atol=1e-6)
    assert isinstance(SRResNet(3, residual=False).tail[-1], torch.nn.Tanh), "residual=False is the paper's network"


def test_the_range_clamp_passes_the_gradient_of_the_identity():
    images = torch.tensor([-1.5, -0.5, 0.5, 2.0], requires_grad=True)
    clamped = clamp_straight_through(images)
    assert clamped.tolist() == [-1.0, -0.5, 0.5, 1.0]
    (clamped * torch.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert images.grad.tolist() == [1.0, 2.0, 3.0, 4.0]  # a pixel pushed past 1 still gets its gradient


# ----------------------------------------------------------------------------- crops and tiles


def test_one_epoch_draws_crops_per_image_crops_of_every_image(photos):
    module = data(photos, crops_per_image=20)
    assert len(module.train_set) == 20
    assert len(module.train_dataloader()) == 1  # 20 crops, batches of 16, the last partial one dropped
    folder = photos["china"].parent  # both photos (searched recursively)
    with pytest.raises(
        ValueError, match=r"batch_size=16 is more than one epoch's 10 crops \(2 images × crops_per_image=5\)"
    ):
        SuperResolutionFolderDataModule(folder, crop_size=96, crops_per_image=5, val_size=0).setup()
    two = SuperResolutionFolderDataModule(folder, crop_size=96, crops_per_image=5, val_size=0, batch_size=2)
    two.setup()
    assert len(two.train_set) == 10
    assert [two.train_set.files[i // 5].name for i in range(10)] == ["flower.png"] * 5 + [
        "china.png"
    ] * 5  # held_out/ sorts first


def test_crops_are_random_places_of_the_photo_fixed_by_seed_epoch_and_index(photos):
    module = data(photos)
    china = torch.from_numpy(np.asarray(Image.open(photos["china"] / "china.png"))).permute(2, 0, 1)
    china = china.float() / 127.5 - 1
    places = set()
    for index in range(16):
        item = module.train_set[index]
        top, left = found_at(item["target"], china)
        places.add((top, left))
        assert torch.equal(item["source"], bicubic_downsample(item["target"], 4))
    assert len(places) == 16, "each crop of an epoch is drawn at its own place"
    again = data(photos).train_set
    assert all(torch.equal(again[i]["target"], module.train_set[i]["target"]) for i in (0, 7, 15))
    module.train_set.set_epoch(1)
    assert not torch.equal(module.train_set[0]["target"], again[0]["target"])


def found_at(crop: torch.Tensor, image: torch.Tensor) -> tuple[int, int]:
    """Where ``crop`` sits in ``image`` (exact match), among the places its corner pixel matches."""
    size = crop.shape[-1]
    corners = (image[:, : image.shape[1] - size + 1, : image.shape[2] - size + 1] == crop[:, :1, :1]).all(0)
    for top, left in corners.nonzero().tolist():
        if torch.equal(image[:, top : top + size, left : left + size], crop):
            return top, left
    raise AssertionError("the crop is not a window of the photo")


def test_a_resumed_epoch_delivers_the_crops_of_an_uninterrupted_one(photos):
    """What ResumableDataLoader saves (epoch, batches delivered) is all the crop sampler needs."""
    full = data(photos, batch_size=4, crops_per_image=16).train_dataloader()
    full.sampler.set_epoch(3)
    uninterrupted = [batch["target"] for batch in full]
    state = {"epoch": 3, "batches_delivered": 2}
    resumed = data(photos, batch_size=4, crops_per_image=16).train_dataloader()
    resumed.load_state_dict(state)
    rest = [batch["target"] for batch in resumed]
    assert len(uninterrupted) == 4 and len(rest) == 2
    assert all(torch.equal(a, b) for a, b in zip(uninterrupted[2:], rest, strict=True))


def test_held_out_tiles_are_a_fixed_centred_grid(photos):
    assert grid_tiles(427, 640, 96) == [(21 + 96 * r, 32 + 96 * c) for r in range(4) for c in range(6)]
    assert grid_tiles(427, 640, 96, limit=3) == [(21, 32), (213, 32), (309, 512)]  # tiles 0, 12, 23
    module = data(photos, val_tiles_per_image=3)
    flower = np.asarray(Image.open(photos["flower"] / "flower.png"))
    second = torch.from_numpy(flower[213:309, 32:128]).permute(2, 0, 1).float() / 127.5 - 1
    assert len(module.val_set) == 3 and torch.equal(module.val_set[1]["target"], second)


def test_holding_out_the_only_image_says_how_to_train_on_it(photos):
    with pytest.raises(TooFewImagesError, match=r"1 image\(s\) under .* val_size=1 .*val_size=0"):
        data(photos, val_root=None, val_size=1)
    alone = data(photos, val_root=None, val_size=0)
    assert len(alone.train_set) == 16 and len(alone.val_set) == 0


# ----------------------------------------------------------------------------- through the CLI


def test_one_photo_trains_the_demo_config_with_batch_16(photos, tmp_path):
    """The issue's user: configs/srgan.yaml + configs/data/sr_folder.yaml on a folder of photos."""
    cli = GANLightningCLI(
        args=[
            *tiny_run(REPO_ROOT / "configs" / "srgan.yaml", tmp_path),
            "--config", str(REPO_ROOT / "configs" / "data" / "sr_folder.yaml"),
            f"--data.init_args.root={photos['china']}", f"--data.init_args.val_root={photos['flower']}",
            "--data.init_args.crop_size=32", "--data.init_args.batch_size=16", "--data.init_args.val_size=null",
            "--model.init_args.pretrain_steps=1", "--trainer.val_check_interval=2",
        ]
    )  # fmt: skip
    assert cli.trainer.global_step == 2 and cli.model.discriminator.image_size == 32
    metrics = cli.trainer.callback_metrics
    assert {"val/psnr", "val/psnr_bicubic", "val/ssim", "val/ssim_bicubic"} <= set(metrics)
    assert "val/digit_accuracy" not in metrics


def random_vgg19_file(path: Path) -> Path:
    from torchvision.models import vgg19

    torch.manual_seed(0)
    with torch.device("meta"):
        features = vgg19().features
    state = {f"features.{name}": torch.randn(tensor.shape) * 0.05 for name, tensor in features.state_dict().items()}
    torch.save(state, path)
    return path


@pytest.mark.slow
def test_the_photo_recipe_trains_two_iterations_with_local_vgg_weights(photos, tmp_path):
    """configs/srgan_vgg.yaml as configured (16 blocks, VGG54 loss, no pixel MSE, lr 1e-4) on
    32-px crops; the weights file is random, in torchvision's layout."""
    weights = random_vgg19_file(tmp_path / "vgg19-dcbb9e9d.pth")
    cli = GANLightningCLI(
        args=[
            *tiny_run(REPO_ROOT / "configs" / "srgan_vgg.yaml", tmp_path / "run"),
            f"--data.init_args.root={photos['china']}", f"--data.init_args.val_root={photos['flower']}",
            "--data.init_args.crop_size=32", "--data.init_args.batch_size=2",
            f"--model.init_args.perceptual.init_args.weights_path={weights}",
            "--model.init_args.pretrain_steps=1", "--trainer.val_check_interval=2",
        ]
    )  # fmt: skip
    model = cli.model
    assert cli.trainer.global_step == 2 and len(model.generator.body) == 18  # 16 blocks + conv + BN
    assert model.pixel_weight == 0 and type(model.perceptual).__name__ == "VGGLoss"
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == 1e-4
    assert (
        cli.trainer.callback_metrics["train/perceptual_loss"] > 0 and "train/pixel_loss" in cli.trainer.callback_metrics
    )
    assert model.generator_ema is not None
