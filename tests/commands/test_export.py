"""`gan-lightning export CKPT --format torchscript|onnx|safetensors --out FILE`: each export is
loaded in a child process that never imports gan_lightning, and its images equal the
checkpoint's own sampling (max abs difference <= 1e-5); translators export too; bad input is one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from gan_lightning.cli import GANLightningCLI
from gan_lightning.cli import main as cli_main
from gan_lightning.commands import export
from gan_lightning.commands.export import (
    build_parser,
    export_checkpoint,
    exportable,
    load_safetensors,
    writable_or_refuse,
)
from gan_lightning.commands.loading import load_module
from gan_lightning.errors import CapabilityError, CommandLineError
from gan_lightning.networks import ResNetTranslator
from gan_lightning.tasks import CycleGAN, VideoGAN
from tests.conftest import REPO_ROOT, tiny_run

TOLERANCE = 1e-5

#: Run in a child process: loads each export as a user without gan_lightning would.
LOADER = """
import json, sys
import onnxruntime, torch
from safetensors import safe_open
from safetensors.torch import load_file

spec = json.loads(sys.argv[1])
inputs = torch.load(spec["inputs"])
outputs, metadata = {}, {}
extra = {"metadata.json": ""}
network = torch.jit.load(spec["torchscript"], _extra_files=extra).eval()
with torch.no_grad():
    outputs["torchscript"] = network(*inputs.values())
metadata["torchscript"] = json.loads(extra["metadata.json"])
session = onnxruntime.InferenceSession(spec["onnx"], providers=["CPUExecutionProvider"])
feed = {name: tensor.numpy() for name, tensor in inputs.items()}
outputs["onnx"] = torch.from_numpy(session.run(None, feed)[0])
metadata["onnx"] = json.loads(session.get_modelmeta().custom_metadata_map["gan_lightning"])
if "safetensors" in spec:
    with safe_open(spec["safetensors"], framework="pt") as file:
        metadata["safetensors"] = json.loads(file.metadata()["gan_lightning"])
    tensors = load_file(spec["safetensors"])
    state = torch.load(spec["checkpoint"], map_location="cpu", weights_only=True)["state_dict"]
    prefix = metadata["safetensors"]["state_dict_prefix"]
    own = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    assert tensors.keys() == own.keys(), sorted(set(tensors) ^ set(own))
    assert all(torch.equal(tensors[key], own[key]) for key in own)
assert not [name for name in sys.modules if name.startswith(("gan_lightning", "lightning"))]
torch.save({"outputs": outputs, "metadata": metadata}, spec["result"])
"""


def load_outside(folder: Path, files: dict[str, Path], inputs: dict[str, torch.Tensor], checkpoint: Path) -> Any:
    """The exports' outputs for ``inputs`` and their metadata, read by :data:`LOADER` in a child process."""
    torch.save(inputs, folder / "inputs.pt")
    spec = {name: str(path) for name, path in files.items()}
    spec.update(inputs=str(folder / "inputs.pt"), result=str(folder / "result.pt"), checkpoint=str(checkpoint))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    script = folder / "loader.py"
    script.write_text(LOADER)
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(spec)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(folder / "result.pt")


def export_all(checkpoint: Path, folder: Path, formats: tuple[str, ...], *extra: str) -> dict[str, Path]:
    suffixes = {"torchscript": "pt", "onnx": "onnx", "safetensors": "safetensors"}
    files = {}
    for name in formats:
        out = folder / f"generator.{suffixes[name]}"
        record = export_checkpoint(build_parser().parse_args([str(checkpoint), "--out", str(out), *extra]))
        assert record["format"] == name and out.is_file()
        files[name] = out
    return files


@pytest.fixture(scope="module")
def gan_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/dcgan.yaml at 8 px, two iterations: an unconditional GAN with an EMA generator."""
    root = tmp_path_factory.mktemp("dcgan")
    GANLightningCLI(
        args=[
            *tiny_run(REPO_ROOT / "configs" / "dcgan.yaml", root),
            "--data=gan_lightning.data.Digits8x8DataModule",
            "--data.init_args.image_size=8",
            "--data.init_args.batch_size=8",
            "--model.init_args.generator.init_args.base_width=4",
            "--model.init_args.discriminator.init_args.base_width=4",
        ]
    )
    return root / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def srgan_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """configs/srgan.yaml on 16-px HR digits (×4), two iterations: a translator with an EMA generator."""
    root = tmp_path_factory.mktemp("srgan")
    args = tiny_run(REPO_ROOT / "configs" / "srgan.yaml", root)
    GANLightningCLI(args=[*args, "--data.init_args.image_size=16", "--model.init_args.pretrain_steps=1"])
    return root / "checkpoints" / "last.ckpt"


@pytest.mark.slow  # a child process that imports torch and onnxruntime, three exports
@pytest.mark.parametrize("which", ["unconditional", "conditional"])
def test_every_format_loads_without_gan_lightning_and_draws_the_checkpoints_images(
    which: str, gan_checkpoint: Path, conditional_run: Path, tmp_path: Path
) -> None:
    checkpoint = gan_checkpoint if which == "unconditional" else conditional_run / "checkpoints" / "last.ckpt"
    files = export_all(checkpoint, tmp_path, export.FORMATS)
    module, _ = load_module(checkpoint)
    generator = torch.Generator().manual_seed(7)
    inputs = {"z": module.sample_latent(5, generator)}
    labels = module.sample_labels(5, generator)
    if labels is not None:
        inputs["labels"] = labels
    expected = module.generate(inputs["z"], labels)  # the checkpoint's own sampling: the EMA generator

    result = load_outside(tmp_path, files, inputs, checkpoint)
    for name in ("torchscript", "onnx"):
        assert (result["outputs"][name] - expected).abs().max() <= TOLERANCE, name
    rebuilt, metadata = load_safetensors(files["safetensors"])
    assert (rebuilt(*inputs.values()) - expected).abs().max() <= TOLERANCE

    assert result["metadata"]["torchscript"] == result["metadata"]["onnx"] == result["metadata"]["safetensors"]
    assert metadata == result["metadata"]["onnx"]
    assert metadata["latent_dim"] == module.latent_dim and metadata["network"] == "generator_ema"
    assert metadata["num_classes"] == (10 if which == "conditional" else None)
    assert metadata["image_shape"] == list(expected.shape[1:])
    assert metadata["output_range"].startswith("[-1, 1]") and metadata["source_checkpoint"] == str(checkpoint)
    assert metadata["task_class"] == f"{type(module).__module__}.{type(module).__qualname__}"
    assert metadata["task_class"] == (
        "gan_lightning.tasks.acgan.ACGAN" if which == "conditional" else "gan_lightning.tasks.gan.GAN"
    )


def test_the_raw_generator_is_exported_on_request(gan_checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "raw.pt"
    record = export_checkpoint(build_parser().parse_args([str(gan_checkpoint), "--out", str(out), "--raw-generator"]))
    module, _ = load_module(gan_checkpoint)
    latent = module.sample_latent(3, torch.Generator().manual_seed(0))
    traced = torch.jit.load(str(out))
    with torch.no_grad():
        images = traced(latent)
    assert record["network"] == "generator" and not record["ema"]
    assert (images - module.generate(latent, use_ema=False)).abs().max() <= TOLERANCE
    weights = traced.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in module.generator.state_dict().items())
    assert not all(torch.equal(weights[k], v) for k, v in module.generator_ema.state_dict().items())


@pytest.mark.slow  # a child process
def test_a_translator_exports_to_torchscript_and_onnx(srgan_checkpoint: Path, tmp_path: Path) -> None:
    files = export_all(srgan_checkpoint, tmp_path, ("torchscript", "onnx"), "--image-size", "4")
    module, _ = load_module(srgan_checkpoint)
    sources = torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(3)) * 2 - 1
    expected = module.translate(sources)

    result = load_outside(tmp_path, files, {"source": sources}, srgan_checkpoint)
    for name in ("torchscript", "onnx"):
        assert result["outputs"][name].shape == (3, 1, 16, 16)
        assert (result["outputs"][name] - expected).abs().max() <= TOLERANCE, name
    metadata = result["metadata"]["onnx"]
    assert metadata["kind"] == "image_to_image" and metadata["scale"] == 4.0
    assert metadata["input_shape"] == [1, 4, 4] and metadata["image_shape"] == [1, 16, 16]
    assert metadata["network"] == "generator_ema" and metadata["latent_dim"] is None


def tiny_cyclegan() -> CycleGAN:
    return CycleGAN(
        generator_ab=ResNetTranslator(1, 1, base_width=4, num_blocks=1),
        generator_ba=ResNetTranslator(1, 1, base_width=4, num_blocks=1),
        channels=1,
    )


def test_cyclegan_exports_a_to_b_by_default_and_b_to_a_on_request() -> None:
    task = tiny_cyclegan().eval()
    images = torch.rand(2, 1, 8, 8) * 2 - 1
    for direction in ("ab", "ba"):
        item = exportable(task, direction if direction == "ba" else None, image_size=8)
        assert item.metadata["network"] == f"generator_{direction}" and item.metadata["direction"] == direction
        with torch.no_grad():
            assert torch.equal(item.network(images), task.translate(images, direction))
    assert task.generator_ab.training is task.generator_ba.training, "the task's own networks are left as they were"


def test_a_one_way_translator_refuses_a_direction(srgan_checkpoint: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"^error: SRGAN translates one way: leave out --direction\.$"):
        cli_main(["export", str(srgan_checkpoint), "--out", str(tmp_path / "g.pt"), "--direction", "ab"])
    assert not list(tmp_path.iterdir())


def test_a_video_task_cannot_be_exported_and_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    task = VideoGAN(num_frames=4, frames_per_clip=2, image_size=16)
    with pytest.raises(CapabilityError, match="video generators are not supported"):
        exportable(task)
    monkeypatch.setattr(export, "load_module", lambda *args, **kwargs: (task, None))
    with pytest.raises(SystemExit, match=r"^error: VideoGAN cannot be exported: [^\n]*$"):
        cli_main(["export", str(tmp_path / "video.ckpt"), "--out", str(tmp_path / "video.pt")])
    assert not (tmp_path / "video.pt").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--out", "g.gif"], r"Give --format \(torchscript, onnx, safetensors\)"),
        (["--out", "g.pt", "--format", "gif"], r"Unknown --format 'gif': use one of torchscript, onnx, safetensors"),
        (["--out", "g.pt"], r"Checkpoint not found: .*missing\.ckpt"),
    ],
)
def test_bad_input_is_one_line(extra: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=rf"^error: {message}[^\n]*$"):
        cli_main(["export", str(tmp_path / "missing.ckpt"), *extra])


@pytest.mark.parametrize("package", ["onnx", "onnxruntime"])
def test_a_missing_onnx_package_names_the_extra(package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # import raises ImportError
    with pytest.raises(
        SystemExit,
        match=rf'^error: --format onnx needs the `{package}` package: pip install "gan-lightning\[export\]"$',
    ):
        cli_main(["export", str(tmp_path / "any.ckpt"), "--out", str(tmp_path / "g.onnx")])


def test_an_export_that_does_not_reproduce_its_network_is_not_written(
    gan_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "run_export", lambda *args: torch.zeros(3, 1, 8, 8))
    with pytest.raises(CommandLineError, match="does not reproduce it"):
        export_checkpoint(build_parser().parse_args([str(gan_checkpoint), "--out", str(tmp_path / "g.pt")]))
    assert not list(tmp_path.iterdir()), "neither the export nor its .partial file is left"


def test_an_out_that_cannot_be_written_is_refused_before_the_export(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    out = blocker / "generator.pt"
    with pytest.raises(CommandLineError, match=rf"Cannot write --out {out}: .*Choose a folder you can write to"):
        writable_or_refuse(out.with_name("generator.pt.partial"), out)
    writable_or_refuse(tmp_path / "new" / "g.pt.partial", tmp_path / "new" / "g.pt")
    assert (tmp_path / "new" / "g.pt.partial").is_file()
