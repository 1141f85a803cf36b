"""The MNIST demos' held-out scores: does the output show the right digit?

Each is a :class:`~gan_lightning.metrics.TaskMetrics` a demo config passes to its task
(``model.init_args.metrics``), beside the generic scores, and all read digits with the one
shipped classifier (:func:`~gan_lightning.mnist.classifier.read_digits`):

* :class:`DigitAccuracy` — a translation (pix2pix, SRGAN) read as its target's label;
* :class:`StyleScores` — the CycleGAN styles demo: L1 to the known translation, the style
  check and the digit, both ways;
* :class:`CaptionReading` — text-to-image: the digit where the caption puts it, its position,
  size and thickness, and the FID of the caption windows;
* :class:`TwoDigitCaptionReading` — text-to-image with two digits: both digits where the
  caption's relation puts them;
* :class:`ClipDigits` — Moving MNIST: whether a clip keeps its digit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from gan_lightning.metrics.base import TaskMetrics, datamodule_of
from gan_lightning.metrics.functional import frechet_distance
from gan_lightning.metrics.restoration import bicubic_upscale
from gan_lightning.metrics.video import HeldOutClips
from gan_lightning.mnist.caption_reading import Layout, caption_scores
from gan_lightning.mnist.classifier import digit_accuracy
from gan_lightning.mnist.clip_reading import digit_statistics
from gan_lightning.mnist.styles import STYLES, apply_style, in_style, readable_digits
from gan_lightning.mnist.two_digit_reading import two_digit_scores
from gan_lightning.mnist.two_digits import TwoDigitLayout

CAPTION_ATTRIBUTES = ("digit", "position", "size", "thickness")
TWO_DIGIT_ATTRIBUTES = ("digits", "relation", "sizes")


def labels_of(batch: Any, key: str, metric: str) -> Tensor:
    """``batch[key]``, or an error that says which data the metric reads."""
    if not isinstance(batch, Mapping) or key not in batch:
        raise ValueError(
            f"{metric} reads digits against the batch's {key!r} (the MNIST demos' data modules give it); this "
            "batch has none: drop the metric from model.init_args.metrics for this data."
        )
    return batch[key]


class DigitAccuracy(TaskMetrics):
    """How often the shipped MNIST classifier reads the target's digit (``batch["label"]``) in
    the task's output (``outputs["output"]``): ``val/digit_accuracy``. A translation can beat
    its L1 baselines with a blur that no longer shows which digit it was.

    Args:
        bicubic: also read the bicubic upscale of the sources, ``val/digit_accuracy_bicubic``
            (the super-resolution baseline, :func:`~gan_lightning.metrics.bicubic_upscale`).
    """

    def __init__(self, bicubic: bool = False) -> None:
        super().__init__()
        self.bicubic = bicubic

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        labels = labels_of(batch, "label", type(self).__name__)
        scores = {"digit_accuracy": digit_accuracy(outputs["output"], labels)}
        if self.bicubic:
            source, target = batch["source"], batch["target"]
            upscaled = bicubic_upscale(source, target.shape[-1] // source.shape[-1])
            scores["digit_accuracy_bicubic"] = digit_accuracy(upscaled, labels)
        return scores


class StyleScores(TaskMetrics):
    """The CycleGAN styles demo (:class:`~gan_lightning.mnist.MNISTStylesDataModule`), whose
    held-out ``b`` is ``apply_style(a)``: the L1 of each translation to the known answer
    (``val/l1_ab``, ``val/l1_ba``), the share of translations in the target style
    (``val/style_ab``, ``val/style_ba``, :func:`~gan_lightning.mnist.in_style`) and the share
    the classifier reads as the source's digit (``val/digit_accuracy_ab``: thick outputs eroded,
    inverted ones negated first, :func:`~gan_lightning.mnist.readable_digits`; ``_ba``).

    Reads the task's ``outputs["ab"]`` (G_ab(a)) and ``outputs["ba"]`` (G_ba(b)).

    Args:
        style: domain B's style; ``None`` reads it from the data module (``style``).
    """

    def __init__(self, style: str | None = None) -> None:
        super().__init__()
        if style is not None and style not in STYLES:
            raise ValueError(f"style must be one of {STYLES} or null (the data module's), got {style!r}.")
        self.style = style

    def style_of(self, task: Any) -> str:
        style = self.style if self.style is not None else getattr(datamodule_of(task), "style", None)
        if style not in STYLES:
            raise ValueError(
                f"StyleScores scores the MNIST styles demo: it needs the style of domain B, one of {STYLES} (set "
                "`style`, or use MNISTStylesDataModule); drop it from model.init_args.metrics for other data."
            )
        return style

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        style = self.style_of(task)
        real_a, fake_b, fake_a = batch["a"], outputs["ab"].float(), outputs["ba"].float()
        scores = {
            "l1_ab": F.l1_loss(fake_b, apply_style(real_a, style)),
            "l1_ba": F.l1_loss(fake_a, real_a),
            "style_ab": in_style(fake_b, style).float().mean(),
            "style_ba": in_style(fake_a, "plain").float().mean(),
        }
        if "label_a" in batch and "label_b" in batch:
            scores["digit_accuracy_ab"] = digit_accuracy(readable_digits(fake_b, style), batch["label_a"])
            scores["digit_accuracy_ba"] = digit_accuracy(fake_a, batch["label_b"])
        return scores


class HeldOutReading(TaskMetrics):
    """Reads every held-out caption's image (``outputs["images"]``) and the real one
    (``batch["image"]``) with :meth:`read` — per-caption results and the windows' classifier
    features — and logs, once per validation, the mean of each result over the captions that
    state it (``val/<name>_accuracy``, ``val/real_<name>_accuracy``: the ceiling the
    instrument allows) and ``val/fid`` of the features, generated against real. Results are kept
    over the whole held-out set, gathered across processes.

    Subclasses set ``attributes`` (the batch keys :meth:`read` needs) and define :meth:`read`.
    """

    attributes: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self._tally: dict[str, list[Tensor]] = {}

    def read(self, task: Any, images: Tensor, batch: Any) -> tuple[dict[str, Tensor], Tensor]:
        """Per-caption results (NaN where the caption does not state it) and the features."""
        raise NotImplementedError

    def update(self, task: Any, batch: Any, outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        missing = [name for name in self.attributes if name not in batch]
        if missing:
            raise ValueError(
                f"{type(self).__name__} needs the captions' stated attributes in the batch; missing {missing}."
            )
        fake_scores, fake_features = self.read(task, outputs["images"], batch)
        real_scores, real_features = self.read(task, batch["image"], batch)
        scores = {f"{name}_accuracy": value for name, value in fake_scores.items()}
        scores.update({f"real_{name}_accuracy": value for name, value in real_scores.items()})
        scores["fake_features"], scores["real_features"] = fake_features, real_features
        for name, value in scores.items():
            self._tally.setdefault(name, []).append(value.detach())
        return {}

    def compute(self, task: Any) -> dict[str, Tensor]:
        tally, self._tally = self._tally, {}
        if not tally:
            return {}
        gathered = {name: gathered_rows(task, torch.cat(values)) for name, values in tally.items()}
        real, fake = gathered.pop("real_features"), gathered.pop("fake_features")
        results = {name: values.float().nanmean() for name, values in gathered.items()}
        if len(real) > real.shape[1] and len(fake) > fake.shape[1]:
            results["fid"] = torch.tensor(frechet_distance(real.cpu(), fake.cpu()))
        return results


class CaptionReading(HeldOutReading):
    """Text-to-image on MNIST captions (:class:`~gan_lightning.mnist.MNISTCaptionsDataModule`):
    whether each held-out caption's image shows what the caption says, read by
    :func:`~gan_lightning.mnist.caption_reading.caption_scores` — ``val/digit_accuracy``
    (the classifier reading the caption's window), ``val/position_accuracy``,
    ``val/size_accuracy``, ``val/thickness_accuracy`` — beside the same reading of the real
    images (``val/real_*``) and ``val/fid`` of the windows (:class:`HeldOutReading`).
    """

    attributes = CAPTION_ATTRIBUTES

    def __init__(self) -> None:
        super().__init__()
        self._canvas: tuple[Layout, Tensor] | None = None  # read from the data module at first use

    def canvas(self, task: Any) -> tuple[Layout, Tensor]:
        """The data module's canvas layout and thickness thresholds, read once."""
        if self._canvas is None:
            datamodule = datamodule_of(task)
            if not (hasattr(datamodule, "layout") and hasattr(datamodule, "thickness_thresholds")):
                raise ValueError(
                    "CaptionReading reads MNIST caption canvases: the data module needs `layout` and "
                    "`thickness_thresholds` (MNISTCaptionsDataModule); drop it from model.init_args.metrics for "
                    "other captions."
                )
            self._canvas = (datamodule.layout, datamodule.thickness_thresholds())
        return self._canvas

    def read(self, task: Any, images: Tensor, batch: Any) -> tuple[dict[str, Tensor], Tensor]:
        layout, thresholds = self.canvas(task)
        return caption_scores(images, batch, layout, thresholds)


class TwoDigitCaptionReading(HeldOutReading):
    """Text-to-image on two-digit captions (:class:`~gan_lightning.mnist.MNISTTwoDigitCaptionsDataModule`),
    read by :func:`~gan_lightning.mnist.two_digit_reading.two_digit_scores`:
    ``val/both_digits_accuracy`` (an image counts only if the classifier reads both digits in
    the halves the relation puts them: the digits and the relation), ``val/first_digit_accuracy``,
    ``val/second_digit_accuracy``, ``val/relation_accuracy`` (the stated order likelier than the
    swapped one; chance 0.5), ``val/size_accuracy`` — beside the same reading of the real images
    (``val/real_*``) and ``val/fid`` of both windows (:class:`HeldOutReading`).
    """

    attributes = TWO_DIGIT_ATTRIBUTES

    def read(self, task: Any, images: Tensor, batch: Any) -> tuple[dict[str, Tensor], Tensor]:
        layout = getattr(datamodule_of(task), "layout", None)
        if not isinstance(layout, TwoDigitLayout):
            raise ValueError(
                "TwoDigitCaptionReading reads two-digit canvases: the data module needs a TwoDigitLayout `layout` "
                "(MNISTTwoDigitCaptionsDataModule); drop it from model.init_args.metrics for other captions."
            )
        return two_digit_scores(images, batch, layout)


def gathered_rows(task: Any, values: Tensor) -> Tensor:
    """Every process's rows of ``values``, concatenated (the rows themselves on one process)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    return task.all_gather(values).flatten(0, 1)


class ClipDigits(HeldOutClips):
    """Moving MNIST: whether generated clips keep their digit — ``val/consistency`` (the share of
    a clip's frames read as its majority digit, :mod:`~gan_lightning.mnist.clip_reading`) and
    ``val/confidence`` (the classifier's mean probability) — beside the held-out clips'
    (``val/real_consistency``, ``val/real_confidence``).

    Args:
        digit_size: side of a digit on the canvas, the reading window (the data module's ``digit_size``).
        num_clips: held-out clips scored (the first ones), and generated clips drawn.
        seed: seed of the generated clips.
    """

    def __init__(self, digit_size: int = 20, num_clips: int = 64, seed: int = 1) -> None:
        super().__init__(num_clips, seed)
        if digit_size < 1:
            raise ValueError(f"digit_size must be >= 1, got {digit_size}.")
        self.digit_size = digit_size

    def score(self, real: Tensor, fake: Tensor) -> dict[str, float]:
        scores = digit_statistics(fake, self.digit_size)
        scores.update({f"real_{k}": v for k, v in digit_statistics(real, self.digit_size).items()})
        return scores
