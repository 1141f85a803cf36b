"""`gan-lightning translate CKPT --input DIR --out DIR` with an SRGAN checkpoint from a
2-iteration CLI run (16-px HR digits, ×4) on folders of tiny PNGs: same names, batching,
mixed sizes, and one-line errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.commands.loading import load_module
from gan_lightning.commands.translate import TranslateError, build_parser, read, translate_folder
from gan_lightning.networks import DCGANDiscriminator, DCGANGenerator
from gan_lightning.tasks import GAN
from tests.conftest import REPO_ROOT, tiny_run


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("srgan")
    args = tiny_run(REPO_ROOT / "configs" / "srgan.yaml", root)
    GANLightningCLI(args=[*args, "--data.init_args.image_size=16", "--model.init_args.pretrain_steps=1"])
    return root / "checkpoints" / "last.ckpt"


def write_pngs(folder: Path, sizes: list[int], mode: str = "L", seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i, size in enumerate(sizes):
        shape = (size, size) if mode == "L" else (size, size, 3)
        path = folder / f"digit_{i}.png"
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)
        paths.append(path)
    return paths


def args(checkpoint: Path, input_dir: Path, out: Path, *extra: str) -> argparse.Namespace:
    return build_parser().parse_args([str(checkpoint), "--input", str(input_dir), "--out", str(out), *extra])


def test_translates_every_image_under_its_own_name_in_batches(checkpoint: Path, tmp_path: Path) -> None:
    inputs = write_pngs(tmp_path / "in", [4, 4, 4])
    written = translate_folder(args(checkpoint, tmp_path / "in", tmp_path / "out", "--batch-size", "2"))
    assert sorted(p.name for p in written) == [p.name for p in inputs]
    module, _ = load_module(checkpoint)
    for path in inputs:
        with Image.open(tmp_path / "out" / path.name) as output:
            assert output.size == (16, 16) and output.mode == "L"
            pixels = torch.from_numpy(np.asarray(output, dtype=np.float32))
        expected = (module.translate(read(path)[None])[0, 0].clamp(-1, 1) + 1) * 127.5
        assert (pixels - expected).abs().max() <= 0.51, "the file holds the model's output, rounded to 8 bits"


def test_images_of_different_sizes_are_batched_apart(checkpoint: Path, tmp_path: Path) -> None:
    write_pngs(tmp_path / "in", [4, 5, 4])
    translate_folder(args(checkpoint, tmp_path / "in", tmp_path / "out"))
    sizes = {p.name: Image.open(p).size for p in (tmp_path / "out").iterdir()}
    assert sizes == {"digit_0.png": (16, 16), "digit_1.png": (20, 20), "digit_2.png": (16, 16)}


def test_colour_images_for_a_grey_model_fail_naming_the_files(checkpoint: Path, tmp_path: Path) -> None:
    write_pngs(tmp_path / "in", [4], mode="RGB")
    with pytest.raises(TranslateError, match=r"digit_0\.png .*1-channel"):
        translate_folder(args(checkpoint, tmp_path / "in", tmp_path / "out"))


def test_grey_images_saved_as_rgb_are_read_as_grey(checkpoint: Path, tmp_path: Path) -> None:
    """torchvision's save_image writes a grey tensor as RGB with three equal channels."""
    folder = tmp_path / "in"
    folder.mkdir()
    grey = np.random.default_rng(0).integers(0, 256, (4, 4), dtype=np.uint8)
    Image.fromarray(np.stack([grey] * 3, axis=-1), "RGB").save(folder / "grey.png")
    assert read(folder / "grey.png").shape == (1, 4, 4)
    assert [p.name for p in translate_folder(args(checkpoint, folder, tmp_path / "out"))] == ["grey.png"]


def test_a_direction_for_a_one_way_task_fails(checkpoint: Path, tmp_path: Path) -> None:
    write_pngs(tmp_path / "in", [4])
    with pytest.raises(TranslateError, match="one way"):
        translate_folder(args(checkpoint, tmp_path / "in", tmp_path / "out", "--direction", "ba"))


def test_empty_folder_and_same_output_folder_fail(checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    with pytest.raises(TranslateError, match="holds no images"):
        translate_folder(args(checkpoint, tmp_path / "empty", tmp_path / "out"))
    write_pngs(tmp_path / "in", [4])
    with pytest.raises(TranslateError, match="must differ"):
        translate_folder(args(checkpoint, tmp_path / "in", tmp_path / "in"))
    assert not (tmp_path / "out").exists()


def test_a_noise_to_image_checkpoint_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gan = GAN(DCGANGenerator(latent_dim=4, image_size=8, channels=1, base_width=4), DCGANDiscriminator(8, 1, 4))
    monkeypatch.setattr("gan_lightning.commands.translate.load_module", lambda *a, **k: (gan, None))
    write_pngs(tmp_path / "in", [4])
    with pytest.raises(TranslateError, match="holds a GAN, not a translation task"):
        translate_folder(args(tmp_path / "gan.ckpt", tmp_path / "in", tmp_path / "out"))


def test_the_command_line_prints_one_line_errors(checkpoint: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as error:
        main(["translate", str(checkpoint), "--input", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    message = str(error.value)
    assert message.startswith("error: --input") and "\n" not in message
    write_pngs(tmp_path / "in", [4])
    main(["translate", str(checkpoint), "--input", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert (tmp_path / "out" / "digit_0.png").is_file()
