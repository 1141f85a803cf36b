"""``gan-lightning export CKPT --format torchscript|onnx|safetensors --out FILE``: a trained
generator as a file that runs without gan_lightning (or Lightning).

What is exported is the task's *sampling* network — the moving average (EMA) of the generator
when the task keeps one, else the generator (``--raw-generator``: always the generator) — on
the CPU, in float32 and in eval mode (dropout off, batch norm from its running statistics):

* a noise → image task (:class:`~gan_lightning.tasks.GAN`, AC-GAN, StyleGAN ...): a network
  ``(z[, labels]) -> images``; ``z`` is (B, latent_dim) float noise of the task's
  ``latent_distribution``, ``labels`` (B,) int64 classes for a class-conditional generator;
* an image → image task (Pix2Pix, CycleGAN, SRGAN): ``images -> images``; CycleGAN exports
  A → B unless ``--direction ba``.

Inputs and outputs are images in [-1, 1] (``(x + 1) / 2`` for [0, 1]). Every format carries
the same metadata, one JSON document (:func:`export_metadata`): what the inputs are (latent
size and distribution, number of classes, image shapes), the normalisation, the task and
network classes, the gan_lightning version and the source checkpoint. It is stored as the
``metadata.json`` extra file of a TorchScript archive, the ``gan_lightning`` entry of an ONNX
model's ``metadata_props`` and of a safetensors file's metadata (with the network's class path
and its config section, to rebuild it: :func:`load_safetensors`). Each export is checked
against the network on fresh inputs before the command reports it. README.md, "Export",
shows how to load each format.

Tasks that need more than one tensor network to run — text-to-image (a tokenizer and a text
encoder) and video — are not exported: a one-line :class:`~gan_lightning.errors.CapabilityError`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import importlib
import io
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.commands.loading import load_module, read_config
from gan_lightning.errors import CapabilityError, CommandLineError, one_line
from gan_lightning.networks.base import is_conditional

FORMATS = ("torchscript", "onnx", "safetensors")
#: ``--format`` when it is left out, from the suffix of ``--out``.
FORMAT_OF_SUFFIX = {".pt": "torchscript", ".ts": "torchscript", ".onnx": "onnx", ".safetensors": "safetensors"}
#: What ``--format onnx`` and ``--format safetensors`` import (the ``export`` extra).
NEEDS = {"torchscript": (), "onnx": ("onnx", "onnxscript", "onnxruntime"), "safetensors": ("safetensors",)}
INSTALL = 'pip install "gan-lightning[export]"'
#: The key of the metadata document in ONNX metadata_props and safetensors metadata.
METADATA_KEY = "gan_lightning"
#: The TorchScript extra file holding the metadata document.
METADATA_FILE = "metadata.json"
OUTPUT_RANGE = "[-1, 1]; (x + 1) / 2 for [0, 1]"
#: Largest difference between an export and its network on the check's fresh inputs.
TOLERANCE = 1e-4
EXAMPLE_BATCH = 2  # not 1: tracers and torch.export specialise size-1 dimensions
CHECK_BATCH = 3  # another batch size than the example's: the batch axis must be dynamic


@dataclass
class Exportable:
    """A network ready to export, how to call it, and what the exports say about it."""

    network: nn.Module
    input_names: list[str]
    make_inputs: Callable[[int, int], tuple[Tensor, ...]]  # (batch size, seed) -> inputs
    metadata: dict[str, Any]

    def inputs(self, batch: int = EXAMPLE_BATCH, seed: int = 0) -> tuple[Tensor, ...]:
        return self.make_inputs(batch, seed)


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="gan-lightning export", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a .ckpt written by `lightning fit`")
    parser.add_argument("--out", type=Path, required=True, help="the file to write (.pt, .onnx, .safetensors)")
    parser.add_argument("--format", help=f"{' | '.join(FORMATS)} (default: from the suffix of --out)")
    parser.add_argument("--config", type=Path, help="the run's config.yaml (default: found next to the checkpoint)")
    parser.add_argument("--direction", choices=("ab", "ba"), help="CycleGAN: A → B (ab, the default) or B → A (ba)")
    parser.add_argument(
        "--image-size", type=int, help="image → image: the example input's side (default: the network's)"
    )
    parser.add_argument("--raw-generator", action="store_true", help="export the raw generator, not its EMA")
    return parser


# ---------------------------------------------------------------------- what is exported
def exportable(task: Any, direction: str | None = None, raw: bool = False, image_size: int | None = None) -> Exportable:
    """The task's sampling network and its metadata, chosen by what the task declares:
    ``translate`` (image → image), ``sample`` (noise → image); text and clips cannot be exported."""
    name = type(task).__name__
    if task.offers("sample_captions"):
        raise CapabilityError(
            f"{name} cannot be exported: it reads text through its tokenizer and text encoder, which a single "
            "network file does not hold; use `gan-lightning sample --prompt` with the checkpoint."
        )
    if task.makes_clips:
        raise CapabilityError(
            f"{name} cannot be exported: video generators are not supported by `gan-lightning export` yet; "
            "use `gan-lightning sample` with the checkpoint."
        )
    if task.offers("translate"):
        return image_to_image(task, direction, raw, image_size)
    if direction is not None:
        raise CommandLineError(f"--direction is for image → image tasks (CycleGAN); {name} samples from noise.")
    if task.offers("sample"):
        return noise_to_image(task, raw)
    raise CapabilityError(f"{name} neither samples from noise nor translates images: nothing to export.")


def frozen_copy(network: nn.Module) -> nn.Module:
    """A float32 CPU copy in eval mode: exporting never changes the task's own network."""
    return copy.deepcopy(network).float().cpu().eval().requires_grad_(False)


def network_of(task: Any, name: str, raw: bool) -> tuple[str, nn.Module]:
    """``(attribute name, network)``: ``name``'s moving average if the task keeps one and
    ``raw`` is off, else ``name`` itself."""
    average = getattr(task, f"{name}_ema", None)
    if average is not None and not raw:
        return f"{name}_ema", average
    return name, getattr(task, name)


def noise_to_image(task: Any, raw: bool) -> Exportable:
    """``(z[, labels]) -> images`` from the task's generator, its noise drawn as the task draws it."""
    attribute, network = network_of(task, "generator", raw)
    network = frozen_copy(network)
    num_classes = int(getattr(network, "num_classes", 0)) if is_conditional(network) else None
    distribution = getattr(task, "latent_distribution", "normal")
    latent_dim = int(task.latent_dim)

    def make_inputs(batch: int, seed: int) -> tuple[Tensor, ...]:
        """Noise (and labels) as the task draws them for sampling, from a seeded CPU generator."""
        generator = torch.Generator().manual_seed(seed)
        latent = task.sample_latent(batch, generator).float().cpu()
        if num_classes is None:
            return (latent,)
        return latent, task.sample_labels(batch, generator).cpu()

    with torch.no_grad():
        shape = list(network(*make_inputs(EXAMPLE_BATCH, 0)).shape[1:])
    metadata = {
        "kind": "noise_to_image",
        "inputs": {"z": f"(B, {latent_dim}) float32", **({"labels": "(B,) int64"} if num_classes else {})},
        "latent_dim": latent_dim,
        "latent_distribution": "uniform on [-1, 1]" if distribution == "uniform" else "standard normal",
        "num_classes": num_classes,
        "image_shape": shape,
        "channels": shape[0],
        "network": attribute,
    }
    return Exportable(network, ["z", "labels"] if num_classes else ["z"], make_inputs, metadata)


def translator_name(task: Any, direction: str | None) -> tuple[str, str | None]:
    """``(network name, direction)``: ``generator`` for one-way tasks, ``generator_<direction>``
    for tasks that translate both ways (CycleGAN's ``generator_ab``/``generator_ba``), A → B by default."""
    one_way = isinstance(getattr(task, "generator", None), nn.Module)
    if one_way:
        if direction is not None:
            raise CommandLineError(f"{type(task).__name__} translates one way: leave out --direction.")
        return "generator", None
    direction = direction or "ab"
    if not isinstance(getattr(task, f"generator_{direction}", None), nn.Module):
        raise CapabilityError(f"{type(task).__name__} has no generator_{direction}: nothing to export.")
    return f"generator_{direction}", direction


def image_to_image(task: Any, direction: str | None, raw: bool, image_size: int | None) -> Exportable:
    """``images -> images`` from the task's translator; the example input has the network's
    channels and ``image_size`` (default: the network's own, else 32) on each side."""
    name, direction = translator_name(task, direction)
    attribute, network = network_of(task, name, raw)
    network = frozen_copy(network)
    channels = getattr(network, "in_channels", None) or getattr(network, "channels", None)
    if channels is None:
        raise CommandLineError(
            f"{type(network).__name__} says neither in_channels nor channels: cannot build an example input."
        )
    side = image_size or getattr(network, "image_size", None) or 32
    if side < 1:
        raise CommandLineError(f"--image-size must be >= 1, got {side}.")

    def make_inputs(batch: int, seed: int) -> tuple[Tensor, ...]:
        generator = torch.Generator().manual_seed(seed)
        return (torch.rand(batch, int(channels), side, side, generator=generator) * 2 - 1,)

    try:
        with torch.no_grad():
            shape = list(network(*make_inputs(EXAMPLE_BATCH, 0)).shape[1:])
    except ValueError as error:
        raise CommandLineError(f"--image-size {side}: {error}") from error
    metadata = {
        "kind": "image_to_image",
        "inputs": {"source": f"(B, {channels}, H, W) float32 in [-1, 1]"},
        "direction": direction,
        "input_shape": [int(channels), side, side],
        "image_shape": shape,
        "channels": shape[0],
        "scale": shape[-1] / side,
        "num_classes": None,
        "latent_dim": None,
        "network": attribute,
    }
    mode = getattr(task, "sample_mode", "eval")
    if mode != "eval":
        metadata["note"] = (
            f"the task translates with sample_mode={mode!r} (dropout on or batch statistics); "
            "the export runs in eval mode (deterministic)"
        )
    return Exportable(network, ["source"], make_inputs, metadata)


def export_metadata(task: Any, item: Exportable, checkpoint: Path, config: Path | None) -> dict[str, Any]:
    """The document every format carries: the item's own fields and where it comes from."""
    network = item.network
    name = item.metadata["network"].removesuffix("_ema")
    return {
        **item.metadata,
        "output_range": OUTPUT_RANGE,
        "ema": item.metadata["network"].endswith("_ema"),
        "state_dict_prefix": f"{item.metadata['network']}.",
        "task_class": qualified_name(type(task)),
        "network_class": qualified_name(type(network)),
        "network_config": network_config(config, name),
        "gan_lightning_version": package_version(),
        "torch_version": torch.__version__,
        "source_checkpoint": str(checkpoint),
        "source_checkpoint_sha256": sha256(checkpoint),
    }


def package_version() -> str:
    """The installed gan-lightning's version (the package root is no module to import from)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gan-lightning")
    except PackageNotFoundError:
        return "unknown"


def qualified_name(klass: type) -> str:
    return f"{klass.__module__}.{klass.__qualname__}"


def network_config(config: Path | None, name: str) -> dict[str, Any] | None:
    """The run config's ``{class_path, init_args}`` section of the network ``name``, if it has one."""
    if config is None:
        return None
    section = (read_config(config).get("model") or {}).get("init_args", {}).get(name)
    return section if isinstance(section, dict) and "class_path" in section else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------- the formats
def require(format_name: str) -> None:
    """The packages a format needs, or a one-line error naming the extra that installs them."""
    for module in NEEDS[format_name]:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise CommandLineError(f"--format {format_name} needs the `{module}` package: {INSTALL}") from error


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """The exporters' progress prints and tracer warnings (shape checks read as constants) stay out of the output."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def write_torchscript(item: Exportable, metadata: dict[str, Any], path: Path) -> None:
    """A traced module; the metadata is its ``metadata.json`` extra file."""
    with quiet():  # torch.jit is deprecated in torch 2.10+ (FutureWarning), and still works
        traced = torch.jit.trace(item.network, item.inputs(), check_trace=False)
        torch.jit.save(traced, str(path), _extra_files={METADATA_FILE: json.dumps(metadata)})


def write_onnx(item: Exportable, metadata: dict[str, Any], path: Path) -> None:
    """torch.export → ONNX with a dynamic batch axis (and image sides where the network
    allows); the metadata is the ``gan_lightning`` entry of ``metadata_props``."""
    import onnx

    batch = torch.export.Dim("batch")
    sides = {2: torch.export.Dim.AUTO, 3: torch.export.Dim.AUTO} if metadata["kind"] == "image_to_image" else {}
    dynamic = tuple({0: batch, **(sides if tensor.dim() == 4 else {})} for tensor in item.inputs())
    with quiet():
        program = torch.onnx.export(
            item.network,
            item.inputs(),
            input_names=item.input_names,
            output_names=["images"],
            dynamo=True,
            dynamic_shapes=dynamic,
        )
    model = program.model_proto
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(metadata)})
    onnx.save(model, str(path))


def write_safetensors(item: Exportable, metadata: dict[str, Any], path: Path) -> None:
    """The network's state dict; the metadata is the ``gan_lightning`` entry of the file's metadata."""
    from safetensors.torch import save_file

    tensors = {key: value.detach().clone().contiguous() for key, value in item.network.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": "pt", METADATA_KEY: json.dumps(metadata)})


WRITERS = {"torchscript": write_torchscript, "onnx": write_onnx, "safetensors": write_safetensors}


# ---------------------------------------------------------------------- reading back
def run_export(path: Path, format_name: str, inputs: tuple[Tensor, ...], names: list[str]) -> Tensor:
    """The export's outputs for ``inputs``: the file as a user loads it."""
    if format_name == "torchscript":
        with quiet(), torch.no_grad():
            return torch.jit.load(str(path)).eval()(*inputs)
    if format_name == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        feed = {name: tensor.numpy() for name, tensor in zip(names, inputs, strict=True)}
        return torch.from_numpy(session.run(None, feed)[0])
    network, _ = load_safetensors(path)
    with torch.no_grad():
        return network(*inputs)


def build_network(section: Any) -> Any:
    """An object from a ``{class_path, init_args}`` config section, nested sections first."""
    if isinstance(section, list):
        return [build_network(item) for item in section]
    if not isinstance(section, dict) or "class_path" not in section:
        return section
    module_name, _, class_name = section["class_path"].rpartition(".")
    klass = getattr(importlib.import_module(module_name), class_name)
    return klass(**{key: build_network(value) for key, value in (section.get("init_args") or {}).items()})


def load_safetensors(path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """A safetensors export rebuilt as its network (eval mode) and its metadata: the class
    from the run config section stored in the metadata, the weights from the file."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as file:
        metadata = json.loads((file.metadata() or {})[METADATA_KEY])
    if metadata.get("network_config") is None:
        raise CommandLineError(
            f"{path} does not say how to build its network (exported without a run config): build "
            f"{metadata.get('network_class')} yourself and load the file's state dict into it."
        )
    network = build_network(metadata["network_config"])
    network.load_state_dict(load_file(str(path)))
    return network.eval().requires_grad_(False), metadata


def check_export(item: Exportable, path: Path, format_name: str) -> float | None:
    """The largest difference between the export and the network on fresh inputs of another
    batch size; ``None`` for a network that draws noise itself (two runs differ)."""
    if format_name == "safetensors":
        return same_tensors(item.network, path)
    inputs = item.inputs(CHECK_BATCH, seed=1)
    with torch.no_grad():
        torch.manual_seed(0)
        expected = item.network(*inputs)
        torch.manual_seed(1)
        if not torch.equal(expected, item.network(*inputs)):
            return None
    difference = (run_export(path, format_name, inputs, item.input_names) - expected).abs().max().item()
    if not difference <= TOLERANCE:
        raise CommandLineError(
            f"The {format_name} export of {type(item.network).__name__} does not reproduce it (max abs difference "
            f"{difference:.3g} on a batch of {CHECK_BATCH}): the network may branch on its input's values or size."
        )
    return difference


def same_tensors(network: nn.Module, path: Path) -> float:
    """0.0 when the safetensors file holds the network's state dict exactly; an error otherwise."""
    from safetensors.torch import load_file

    saved, expected = load_file(str(path)), network.state_dict()
    if saved.keys() != expected.keys() or not all(torch.equal(saved[k], expected[k]) for k in saved):
        raise CommandLineError(f"{path} does not hold the state dict of {type(network).__name__}.")
    return 0.0


# ---------------------------------------------------------------------- the command
def format_of(args: argparse.Namespace) -> str:
    """``--format``, or the one the suffix of ``--out`` names."""
    name = args.format or FORMAT_OF_SUFFIX.get(args.out.suffix.lower())
    if name is None:
        raise CommandLineError(
            f"Give --format ({', '.join(FORMATS)}): the suffix of --out {args.out} names none "
            f"({', '.join(FORMAT_OF_SUFFIX)})."
        )
    if name not in FORMATS:
        raise CommandLineError(f"Unknown --format {name!r}: use one of {', '.join(FORMATS)}.")
    return name


def writable_or_refuse(partial: Path, out: Path) -> None:
    """Create ``partial`` (and its folders) before exporting, so an ``--out`` that cannot be
    written is one line naming it, not a traceback from inside torch.jit/onnx after the work."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.touch()
    except OSError as error:
        raise CommandLineError(
            f"Cannot write --out {out}: {error.strerror or one_line(error)}. Choose a folder you can write to."
        ) from error


def export_checkpoint(args: argparse.Namespace) -> dict[str, Any]:
    """Writes ``args.out``; returns its metadata with the check's result as ``max_abs_difference``."""
    format_name = format_of(args)
    require(format_name)
    task, config = load_module(args.checkpoint, args.config, metrics=None)
    item = exportable(task, args.direction, args.raw_generator, args.image_size)
    metadata = export_metadata(task, item, args.checkpoint, config)
    partial = args.out.with_name(args.out.name + ".partial")  # a failed export leaves no half-written file
    writable_or_refuse(partial, args.out)
    try:
        WRITERS[format_name](item, metadata, partial)
        difference = check_export(item, partial, format_name)
        partial.replace(args.out)
    finally:
        partial.unlink(missing_ok=True)
    return {**metadata, "format": format_name, "max_abs_difference": difference}


def main(argv: list[str]) -> int:
    """Errors are the project's own (:mod:`gan_lightning.errors`): :func:`gan_lightning.cli.main`
    prints them as one line."""
    args = build_parser().parse_args(argv)
    record = export_checkpoint(args)
    inputs = ", ".join(f"{name} {shape}" for name, shape in record["inputs"].items())
    difference = record["max_abs_difference"]
    checked = "not compared: it draws noise" if difference is None else f"max abs difference {difference:.2g}"
    print(
        f"wrote {args.out} ({record['format']}): {record['network']} of {record['task_class']}, {inputs} -> "
        f"images {record['image_shape']} in [-1, 1]; {checked}"
    )
    if "note" in record:
        print(f"note: {record['note']}")
    return 0
