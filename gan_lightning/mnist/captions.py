"""Offline text-to-image data: MNIST-5k digits composed on a canvas, with template captions.

Each item is one digit on a ``canvas`` × ``canvas`` black canvas (32 px by default). Two
attributes are *set* by the composition — where the digit sits (``left``, ``right``,
``top``, ``bottom``) and how large it is (``small``, ``large``) — and one is *measured* from
the digit: stroke thickness (``thin``/``thick``: the lowest/highest 40 % of its class by
:func:`~gan_lightning.mnist.caption_reading.ink_mass` within its class; the middle 20 % is not described).
Captions come from a few templates with synonyms and numerals ("a thick seven on the
left", "at the bottom, a small bold 2", "a big four on top, thin"), so the text encoder
must learn that "7" and "seven", "big" and "large" mean the same.

Training items are recomposed every epoch (position, size, small shifts, wording), drawn
from a generator seeded with ``(seed, epoch, index)``: the same on every run, rank and
restart. Held-out items are fixed. Batches:

``{"image": (1, S, S) in [-1, 1], "tokens": (max_words,) int64, "length": (), "digit": (),
"position": () 0-3, "size": () 0 small / 1 large / -1 not said, "thickness": () 0 thin /
1 thick / -1 not said, "label": ()}``; ``label`` is the class a text-to-image task's
auxiliary class term reads: the digit (``label="digit"``, the default), or the digit with the
image's stroke class (thin / middle / thick) and optionally its size (:func:`caption_class`), so
the term also checks the attributes a digit-only class cannot see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from gan_lightning.data.tokenizer import Tokenizer
from gan_lightning.data.translation import EpochDataset, TranslationDataModule, check_held_out, seeded_split
from gan_lightning.mnist.caption_reading import ink_mass
from gan_lightning.mnist.digits import mnist5k_pixels

POSITIONS = ("left", "right", "top", "bottom")
SIZES = ("small", "large")
THICKNESS = ("thin", "thick")
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
WHERE = {
    "left": ("on the left", "at the left"),
    "right": ("on the right", "at the right"),
    "top": ("at the top", "on top"),
    "bottom": ("at the bottom", "on the bottom"),
}
SIZE_WORDS = {"small": ("small", "tiny"), "large": ("large", "big")}
THICKNESS_WORDS = {"thin": ("thin",), "thick": ("thick", "bold")}
TEMPLATES = (
    "a {adjectives} {digit} {where}",
    "{where} , a {adjectives} {digit}",
    "a {digit} {where} , {and_adjectives}",
    "{adjectives} {digit} {where}",
)
DIGIT_BOX = 20  # MNIST digits fit a 20×20 box (LeCun et al. 1998)
NOT_SAID = -1
LABELS = {"digit": 10, "digit_thickness": 30, "digit_size_thickness": 60}  # choice -> number of classes


@dataclass(frozen=True)
class CanvasLayout:
    """Where a digit of each size goes on the canvas, for composing and for reading back.

    A digit's 20-px box is scaled to ``large`` or ``small`` pixels and put against one edge
    (``margin`` away) and centred along it, then shifted by up to ``jitter`` pixels each way.
    """

    canvas: int = 32
    large: int = 18
    small: int = 12
    margin: int = 1
    jitter: int = 1

    def __post_init__(self) -> None:
        if not 0 < self.small < self.large <= self.canvas - 2 * self.margin:
            raise ValueError(
                f"Need 0 < small < large <= canvas - 2·margin; got small={self.small}, large={self.large}, "
                f"canvas={self.canvas}, margin={self.margin}."
            )

    def side(self, size: int) -> int:
        return self.large if size == 1 else self.small

    def corner(self, position: int, size: int) -> tuple[int, int]:
        """Top-left (row, column) of the digit box before jitter."""
        side, far = self.side(size), self.canvas - self.margin - self.side(size)
        middle = (self.canvas - side) // 2
        return {0: (middle, self.margin), 1: (middle, far), 2: (self.margin, middle), 3: (far, middle)}[position]

    def window(self, position: int, size: int) -> tuple[int, int, int]:
        """``(top, left, side)`` of a square that holds the digit whatever its jitter: where a
        reader looks for the digit a caption asks for."""
        top, left = self.corner(position, size)
        side = self.side(size) + 2 * self.jitter
        clamp = self.canvas - side
        return min(max(top - self.jitter, 0), clamp), min(max(left - self.jitter, 0), clamp), side

    @property
    def size_threshold(self) -> float:
        """Ink extents above this read as large."""
        return (self.large + self.small) / 2


def boxed_digits(pixels: Tensor) -> Tensor:
    """(N, 784) uint8 MNIST pixels → (N, 1, 20, 20) in [-1, 1], each digit's ink bounding box
    centred in a 20×20 box (MNIST centres by centre of mass, so the box may sit off-centre)."""
    digits = pixels.float().view(-1, 28, 28) / 255.0
    out = torch.zeros(len(digits), DIGIT_BOX, DIGIT_BOX)
    for index, digit in enumerate(digits):
        rows, cols = torch.nonzero(digit > 0.1, as_tuple=True)
        if len(rows) == 0:
            continue
        r0, r1 = int(rows.min()), min(int(rows.max()) + 1, int(rows.min()) + DIGIT_BOX)
        c0, c1 = int(cols.min()), min(int(cols.max()) + 1, int(cols.min()) + DIGIT_BOX)
        top, left = (DIGIT_BOX - (r1 - r0)) // 2, (DIGIT_BOX - (c1 - c0)) // 2
        out[index, top : top + r1 - r0, left : left + c1 - c0] = digit[r0:r1, c0:c1]
    return out.unsqueeze(1) * 2 - 1


def scaled(digits: Tensor, side: int) -> Tensor:
    if side == digits.shape[-1]:
        return digits
    return F.interpolate(digits, size=(side, side), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)


def thickness_labels(digits: Tensor, labels: Tensor, share: float = 0.4) -> Tensor:
    """1 (thick) for the ``share`` of each class with the widest strokes, 0 (thin) for the
    ``share`` with the narrowest, :data:`NOT_SAID` between: thickness is relative to the
    digit's class (a 1 has less ink than an 8 however it is written)."""
    widths = ink_mass(digits)
    result = torch.full_like(labels, NOT_SAID)
    for digit in labels.unique():
        members = labels == digit
        low, high = torch.quantile(widths[members], torch.tensor([share, 1 - share]))
        result[members & (widths <= low)] = 0
        result[members & (widths >= high)] = 1
    return result


def template_vocabulary(
    words: list[str], templates: tuple[str, ...], tables: tuple[dict[str, tuple[str, ...]], ...]
) -> list[str]:
    """Every word ``templates`` can produce from ``words`` and the phrases of ``tables``
    (placeholders removed), as captions for :meth:`Tokenizer.from_captions`: the vocabulary
    does not depend on the draws."""
    phrases = [*words, *templates]
    for table in tables:
        phrases += [phrase for options in table.values() for phrase in options]
    return [re.sub(r"\{\w+\}", " ", phrase) for phrase in phrases]


def caption_vocabulary() -> list[str]:
    """Every word the one-digit captions can use."""
    return template_vocabulary(
        [*DIGIT_WORDS, *map(str, range(10)), "and", "an"], TEMPLATES, (WHERE, SIZE_WORDS, THICKNESS_WORDS)
    )


def pick(options: tuple[str, ...], generator: torch.Generator) -> str:
    return options[int(torch.randint(len(options), (1,), generator=generator))]


def check_label(label: str) -> None:
    """Refuse a ``label`` choice other than :data:`LABELS`, with what they mean."""
    if label not in LABELS:
        raise ValueError(
            f"label must be one of {tuple(LABELS)} (the digit; with its stroke class; with its size and stroke "
            f"class), got {label!r}."
        )


def caption_class(label: str, digit: int, size: int, thickness: int) -> int:
    """The class a class term reads for one image: its ``digit``, or with ``label`` =
    ``digit_thickness`` ``3 · digit + stroke`` (stroke 0 thin, 1 the undescribed middle, 2 thick),
    or with ``digit_size_thickness`` ``6 · digit + 3 · size + stroke``. ``size`` is the image's
    own (0 small, 1 large), said in its caption or not. Why: a class term on the digit alone
    leaves G free to draw any stroke; one on the digit and its stroke class rewards "thick" where
    the caption says it (Odena et al. 2017's auxiliary classifier, on a finer class)."""
    stroke = 1 if thickness == NOT_SAID else 2 * thickness
    if label == "digit":
        return digit
    if label == "digit_thickness":
        return 3 * digit + stroke
    return 6 * digit + 3 * size + stroke


def stated_adjectives(size: int, thickness: int, swap: bool, generator: torch.Generator) -> list[str]:
    """A word for the size and one for the thickness, each left out where :data:`NOT_SAID`;
    ``swap`` puts the thickness first when both are said."""
    adjectives = []
    if size != NOT_SAID:
        adjectives.append(pick(SIZE_WORDS[SIZES[size]], generator))
    if thickness != NOT_SAID:
        adjectives.append(pick(THICKNESS_WORDS[THICKNESS[thickness]], generator))
    return adjectives[::-1] if swap else adjectives


def compose_caption(
    digit: int, position: int, size: int, thickness: int, generator: torch.Generator, numeral_p: float = 0.25
) -> str:
    """One caption for the attributes; ``size``/``thickness`` equal to :data:`NOT_SAID` are left out."""
    coin = torch.rand(3, generator=generator)
    name = str(digit) if coin[0] < numeral_p else DIGIT_WORDS[digit]
    adjectives = stated_adjectives(size, thickness, bool(coin[1] < 0.5), generator)
    template = pick(TEMPLATES, generator)
    if not adjectives and "and_adjectives" in template:
        template = TEMPLATES[0]
    text = template.format(
        adjectives=" ".join(adjectives),
        and_adjectives=" and ".join(adjectives),
        digit=name,
        where=pick(WHERE[POSITIONS[position]], generator),
    )
    text = " ".join(text.split())
    return re.sub(r"\ba (eight|8)\b", r"an \1", text)


class ComposedCaptionDataset(EpochDataset):
    """Digits composed on a canvas with a caption, drawn per ``(seed, epoch, index)``."""

    def __init__(
        self,
        digits: Tensor,
        labels: Tensor,
        thickness: Tensor,
        layout: CanvasLayout,
        tokenizer: Tokenizer,
        max_words: int,
        seed: int,
        omit_size_p: float = 0.15,
        label: Literal["digit", "digit_thickness", "digit_size_thickness"] = "digit",
    ) -> None:
        super().__init__(seed)
        check_label(label)
        self.label = label
        self.sized = (scaled(digits, layout.small), scaled(digits, layout.large))
        self.labels, self.thickness = labels, thickness
        self.layout, self.tokenizer, self.max_words = layout, tokenizer, max_words
        self.omit_size_p = omit_size_p

    def __len__(self) -> int:
        return len(self.labels)

    def compose(self, index: int, position: int, size: int, shift: tuple[int, int]) -> Tensor:
        layout = self.layout
        canvas = torch.full((1, layout.canvas, layout.canvas), -1.0)
        top, left = layout.corner(position, size)
        side = layout.side(size)
        top = min(max(top + shift[0], 0), layout.canvas - side)
        left = min(max(left + shift[1], 0), layout.canvas - side)
        canvas[:, top : top + side, left : left + side] = self.sized[size][index]
        return canvas

    def caption(self, index: int) -> tuple[str, dict[str, int]]:
        """The caption of item ``index`` this epoch and the attributes it states."""
        return self._draw(index)[1:]

    def _draw(self, index: int) -> tuple[tuple[int, int, tuple[int, int]], str, dict[str, int]]:
        generator = self.generator(index)
        position = int(torch.randint(len(POSITIONS), (1,), generator=generator))
        size = int(torch.randint(len(SIZES), (1,), generator=generator))
        shift = tuple(
            int(v) for v in torch.randint(-self.layout.jitter, self.layout.jitter + 1, (2,), generator=generator)
        )
        said_size = NOT_SAID if float(torch.rand(1, generator=generator)) < self.omit_size_p else size
        digit, thickness = int(self.labels[index]), int(self.thickness[index])
        text = compose_caption(digit, position, said_size, thickness, generator)
        attributes = {"digit": digit, "position": position, "size": said_size, "thickness": thickness}
        return (position, size, shift), text, attributes  # type: ignore[return-value]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        (position, size, shift), text, attributes = self._draw(index)
        ids, length = self.tokenizer.batch([text], max_length=self.max_words)
        item = {"image": self.compose(index, position, size, shift), "tokens": ids[0], "length": length[0]}
        item.update({name: torch.tensor(value) for name, value in attributes.items()})
        item["label"] = torch.tensor(caption_class(self.label, attributes["digit"], size, attributes["thickness"]))
        return item


class ComposedCaptionsDataModule(TranslationDataModule):
    """What the caption demos share: a canvas layout, a tokenizer over the demo's words, the
    seeded MNIST-5k split (the held-out digits are ``MNIST5kDataModule``'s with the same
    ``seed`` and ``val_size``) and one composed dataset per split. Subclasses name their
    layout, dataset and words, and state their defaults in their own ``__init__``."""

    channels = 1
    num_classes = 10
    layout_class: type
    dataset_class: type
    longest_caption: int  # words
    fewest_train_digits = 1

    def __init__(
        self,
        image_size: int,
        large: int,
        small: int,
        jitter: int,
        max_words: int,
        omit_size_p: float,
        train_size: int | None,
        batch_size: int,
        val_size: int,
        num_workers: int,
        seed: int,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed)
        self.layout = self.layout_class(canvas=image_size, large=large, small=small, jitter=jitter)
        self.image_size = image_size
        if max_words < self.longest_caption:
            raise ValueError(f"max_words must be >= {self.longest_caption} (the longest caption), got {max_words}.")
        if not 0 <= omit_size_p <= 1:
            raise ValueError(f"omit_size_p must be in [0, 1], got {omit_size_p}.")
        if train_size is not None and train_size < self.fewest_train_digits:
            raise ValueError(
                f"train_size must be >= {self.fewest_train_digits} training digit(s) or null for all, got {train_size}."
            )
        self.train_size = train_size
        self.max_words = max_words
        self.omit_size_p = omit_size_p
        self.val_size = check_held_out(val_size)
        self.tokenizer = Tokenizer.from_captions(self.words())

    @staticmethod
    def words() -> list[str]:
        """Every word the demo's captions use: the tokenizer's vocabulary."""
        raise NotImplementedError

    @property
    def vocabulary(self) -> Tokenizer:
        return self.tokenizer

    def make_datasets(self) -> tuple[Dataset, Dataset]:
        pixels, labels = mnist5k_pixels()
        digits = boxed_digits(pixels)
        thickness = thickness_labels(digits, labels)
        train_idx, val_idx = seeded_split(len(digits), self.val_size, self.seed)
        train_idx = train_idx[: self.train_size]
        return tuple(  # type: ignore[return-value]
            self.dataset_class(
                digits[idx],
                labels[idx],
                thickness[idx],
                self.layout,
                self.tokenizer,
                self.max_words,
                self.seed,
                self.omit_size_p,
                **self.dataset_options(),
            )
            for idx in (train_idx, val_idx)
        )

    def dataset_options(self) -> dict[str, Any]:
        """Further keyword arguments of ``dataset_class`` that a subclass adds (none here)."""
        return {}


class MNISTCaptionsDataModule(ComposedCaptionsDataModule):
    """Captioned MNIST-5k canvases for text-to-image (module docstring).

    Args:
        image_size, large, small, jitter: the :class:`CanvasLayout` (canvas side; digit box
            sides; random shift in pixels).
        max_words: captions are padded (or cut) to this many tokens.
        omit_size_p: probability that a caption does not say the size (the image still has one).
        train_size: keep only the first this many training digits of the seeded split (null: all
            4,500 with the default val_size): a small-data setting, and tiny runs for tests.
        label: the batches' ``"label"``, which a class term reads (:func:`caption_class`):
            ``digit`` (10 classes), ``digit_thickness`` (30: the digit and its stroke class) or
            ``digit_size_thickness`` (60); set ``discriminator.init_args.num_classes`` to match.
        batch_size, val_size, num_workers, seed: as everywhere.
    """

    layout_class = CanvasLayout
    dataset_class = ComposedCaptionDataset
    longest_caption = 9

    def __init__(
        self,
        image_size: int = 32,
        large: int = 18,
        small: int = 12,
        jitter: int = 1,
        max_words: int = 12,
        omit_size_p: float = 0.15,
        train_size: int | None = None,
        label: Literal["digit", "digit_thickness", "digit_size_thickness"] = "digit",
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        check_label(label)
        self.label = label
        self.num_classes = LABELS[label]
        super().__init__(
            image_size,
            large,
            small,
            jitter,
            max_words,
            omit_size_p,
            train_size,
            batch_size,
            val_size,
            num_workers,
            seed,
        )

    @staticmethod
    def words() -> list[str]:
        return caption_vocabulary()

    def dataset_options(self) -> dict[str, Any]:
        return {"label": self.label}

    def thickness_thresholds(self) -> Tensor:
        """(10, 2) median ink mass of the training digits per (class, small/large), on a
        black border as on the canvas: where a reader splits thin from thick."""
        self.setup()
        train = self.train_set
        assert isinstance(train, ComposedCaptionDataset)
        medians = torch.zeros(10, 2)
        for size, digits in enumerate(train.sized):
            widths = ink_mass(F.pad(digits, (2, 2, 2, 2), value=-1.0))
            for digit in range(10):
                medians[digit, size] = widths[train.labels == digit].median()
        return medians
