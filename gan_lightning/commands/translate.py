"""``gan-lightning translate CKPT --input DIR --out DIR``: a trained translator applied to a folder.

Every image in ``--input`` (not its sub-folders) is read, batched with the images of the
same size and channels, translated, and written to ``--out`` under the same file name.

**The contract a translation task fulfils** (pix2pix, CycleGAN, SRGAN, a user's own)::

    def translate(self, images: Tensor, direction: str | None = None) -> Tensor

* ``images``: (B, C, H, W) float in [-1, 1] on any device (the task moves them to its own);
  the result is (B, C', H', W') in [-1, 1].
* It runs as inference: eval mode, no gradients, the training RNG untouched (wrap the
  network in :func:`gan_lightning.tasks.base.looking_only`), the EMA network if the task keeps one.
* ``direction`` is ``None`` for one-way tasks; a task that translates both ways (CycleGAN:
  ``"ab"`` or ``"ba"``) takes it. The command passes it only when ``--direction`` is given. A wrong ``direction``, channel count or image size
  raises ``ValueError`` with a one-line message saying what the model expects: the command
  re-raises it as a :class:`~gan_lightning.errors.CommandLineError` naming the files, which
  the CLI prints without a traceback.

A checkpoint's task is rebuilt from the run's ``config.yaml`` (see :mod:`gan_lightning.commands.loading`).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor

from gan_lightning.commands.loading import load_module
from gan_lightning.errors import CommandLineError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


class TranslateError(CommandLineError):
    """A problem with the command's input or checkpoint, printed as one line by the CLI."""


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    parser = parser or argparse.ArgumentParser(prog="gan-lightning translate", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a .ckpt of a translation task (pix2pix, CycleGAN, SRGAN)")
    parser.add_argument("--input", type=Path, required=True, help="folder of images to translate")
    parser.add_argument("--out", type=Path, required=True, help="output folder (same file names)")
    parser.add_argument("--direction", choices=("ab", "ba"), help="CycleGAN: A → B (ab) or B → A (ba)")
    parser.add_argument("--config", type=Path, help="the run's config.yaml (default: found next to the checkpoint)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    return parser


def input_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted by name."""
    if not folder.is_dir():
        raise TranslateError(f"--input {folder} is not a folder.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise TranslateError(f"--input {folder} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    return files


def read(path: Path) -> Tensor:
    """(C, H, W) in [-1, 1]: 1 channel for grey images — also RGB files whose three channels
    are equal, as torchvision's ``save_image`` writes grey tensors —, 3 for colour (alpha
    dropped)."""
    try:
        with Image.open(path) as image:
            image = image.convert("L" if image.mode in GREY_MODES else "RGB")
    except (UnidentifiedImageError, OSError) as error:
        raise TranslateError(f"{path} is not a readable image ({error}).") from error
    array = np.asarray(image, dtype=np.float32)
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    if array.shape[0] == 3 and (array[0] == array[1]).all() and (array[1] == array[2]).all():
        array = array[:1]
    return torch.from_numpy(array.copy()) / 127.5 - 1.0


def write(image: Tensor, path: Path) -> None:
    """A (C, H, W) image in [-1, 1] as a file (format from the suffix)."""
    pixels = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()
    array = pixels[0].numpy() if pixels.shape[0] == 1 else pixels.permute(1, 2, 0).numpy()
    Image.fromarray(array).save(path)


def load_translator(checkpoint: Path, config: Path | None) -> torch.nn.Module:
    """The checkpoint's task; it must be a translation task (have ``translate``)."""
    module, _ = load_module(checkpoint, config)
    if not module.offers("translate"):
        raise TranslateError(
            f"{checkpoint} holds a {type(module).__name__}, not a translation task (pix2pix, CycleGAN, SRGAN): "
            "use `gan-lightning sample` for noise → image models."
        )
    return module


def translate_folder(args: argparse.Namespace) -> list[Path]:
    """Translates every image of ``args.input`` into ``args.out``; returns the written files."""
    if args.batch_size < 1:
        raise TranslateError(f"--batch-size must be >= 1, got {args.batch_size}.")
    files = input_images(args.input)
    if args.out.resolve() == args.input.resolve():
        raise TranslateError("--out must differ from --input: outputs keep the input file names.")
    module = load_translator(args.checkpoint, args.config)
    module.to(torch.device(args.device))
    groups: dict[tuple[int, ...], list[tuple[Path, Tensor]]] = defaultdict(list)
    for path in files:
        image = read(path)
        groups[tuple(image.shape)].append((path, image))
    args.out.mkdir(parents=True, exist_ok=True)
    direction = {} if args.direction is None else {"direction": args.direction}  # a task's own default otherwise
    written = []
    for shape, items in groups.items():
        for start in range(0, len(items), args.batch_size):
            chunk = items[start : start + args.batch_size]
            try:
                images = torch.stack([image for _, image in chunk])
                outputs = module.translate(images, **direction)
            except ValueError as error:
                names = ", ".join(p.name for p, _ in chunk[:3]) + (
                    f" and {len(chunk) - 3} more" if len(chunk) > 3 else ""
                )
                raise TranslateError(f"{names} ({shape[0]}×{shape[1]}×{shape[2]}, C×H×W): {error}") from error
            for (path, _), output in zip(chunk, outputs, strict=True):
                write(output, args.out / path.name)
                written.append(args.out / path.name)
    return written


def main(argv: list[str]) -> int:
    """Errors are the project's own (:mod:`gan_lightning.errors`): :func:`gan_lightning.cli.main`
    prints them as one line."""
    args = build_parser().parse_args(argv)
    written = translate_folder(args)
    print(f"translated {len(written)} image(s) into {args.out}")
    return 0
