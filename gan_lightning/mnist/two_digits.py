"""Two-digit captions for text-to-image: two MNIST-5k digits on one canvas and their relation.

Each item puts two digits on a ``canvas`` × ``canvas`` black canvas (32 px by default), side by
side or stacked, each centred in its half, and says which digit sits where: "a small two above
a five", "a 3 to the left of a seven", "a five with a thick 1 under it". The caption's *first*
digit is the one the relation places (the two in "a two above a five", the 1 in "a five with a
1 under it"), the *second* the one it is placed against. The relation is the first digit's half,
with the codes of :data:`~gan_lightning.mnist.captions.POSITIONS`: 0 left of, 1 right of,
2 above, 3 below; the second digit takes the opposite half. Digits are named by word or numeral,
each may carry a size (``small``/``tiny``, ``large``/``big``; set by the composition) and a
thickness (``thin``, ``thick``/``bold``; measured, relative to the digit's class, as in
:mod:`~gan_lightning.mnist.captions`).

Training items are recomposed every epoch (the partner digit, relation, sizes, shifts, wording),
drawn from a generator seeded with ``(seed, epoch, index)``; held-out items are fixed. Batches:

``{"image": (1, S, S) in [-1, 1], "tokens": (max_words,) int64, "length": (), "digits": (2,)
first and second digit, "relation": () 0-3, "sizes": (2,) 0 small / 1 large / -1 not said,
"thickness": (2,) 0 thin / 1 thick / -1 not said, "label": ()}``; ``label`` is the class a
text-to-image task's optional class term reads: the first digit (``label="first"``, the default),
or both digits by half (``label="slots"``, :func:`slot_label`), so the term also checks which digit
is where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from gan_lightning.data.tokenizer import Tokenizer
from gan_lightning.data.translation import EpochDataset
from gan_lightning.mnist.captions import (
    DIGIT_WORDS,
    NOT_SAID,
    SIZE_WORDS,
    SIZES,
    THICKNESS_WORDS,
    ComposedCaptionsDataModule,
    pick,
    scaled,
    stated_adjectives,
    template_vocabulary,
)

RELATIONS = ("left of", "right of", "above", "below")
RELATION_WORDS = {
    "left of": ("to the left of", "left of"),
    "right of": ("to the right of", "right of"),
    "above": ("above", "over"),
    "below": ("below", "under"),
}
TEMPLATES = (
    "a {first} {relation} a {second}",
    "{first} {relation} {second}",
    "a {second} with a {first} {relation} it",
)
LONGEST_CAPTION = 14  # "a large thick five with a small thin two to the left of it"


LABELS = ("first", "slots")


def slots(relation: Tensor | int) -> tuple[Tensor | int, Tensor | int]:
    """The halves (0 left, 1 right, 2 top, 3 bottom) of the first and the second digit."""
    return relation, relation ^ 1


def check_label(label: str) -> None:
    """Refuse a ``label`` choice other than :data:`LABELS`, with what they mean."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS} (the first digit, or both by half), got {label!r}.")


def slot_label(classes: Tensor, relation: Tensor, num_classes: int = 10) -> Tensor:
    """One class for two objects *and where they are*: ``num_classes · (class in the left or
    top half) + (class in the right or bottom half)``, from the caption's ``classes`` (..., 2)
    (first, second) and the first one's half ``relation`` (...,) (0 left of, 1 right of,
    2 above, 3 below). "a 2 above a 5" and "a 5 below a 2" are both 25; "a 5 above a 2" is 52.
    A class term on it (``TextToImage(auxiliary_weight=...)`` with a D head of
    ``num_classes²`` classes) rewards G for the digits in the order the relation asks, which a
    class term on the first digit alone cannot see."""
    first_in_a = (relation % 2 == 0).long()  # left of, above: the first object takes slot A
    first, second = classes[..., 0].long(), classes[..., 1].long()
    in_a = first * first_in_a + second * (1 - first_in_a)
    in_b = first + second - in_a
    return num_classes * in_a + in_b


@dataclass(frozen=True)
class TwoDigitLayout:
    """Where each digit goes: the canvas is split in two halves along the relation's axis, and a
    digit's 20-px box, scaled to ``large`` or ``small`` pixels, is centred in its half and
    shifted by up to ``jitter`` pixels each way. ``position`` is the half, as in
    :data:`~gan_lightning.mnist.captions.POSITIONS`; the methods are those a reader needs
    (:class:`~gan_lightning.mnist.caption_reading.Layout`)."""

    canvas: int = 32
    large: int = 15
    small: int = 12
    jitter: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.small < self.large <= self.canvas // 2 - 2 * self.jitter:
            raise ValueError(
                f"Need 0 < small < large <= canvas/2 - 2·jitter (a digit and its jitter fit its half); got "
                f"small={self.small}, large={self.large}, canvas={self.canvas}, jitter={self.jitter}."
            )

    def side(self, size: int) -> int:
        return self.large if size == 1 else self.small

    def corner(self, position: int, size: int) -> tuple[int, int]:
        """Top-left (row, column) of the digit box in half ``position``, before jitter."""
        side, half = self.side(size), self.canvas // 2
        along = (half - side) // 2 + (half if position in (1, 3) else 0)
        across = (self.canvas - side) // 2
        return (across, along) if position in (0, 1) else (along, across)

    def window(self, position: int, size: int) -> tuple[int, int, int]:
        """``(top, left, side)`` of the square that holds the digit whatever its jitter."""
        top, left = self.corner(position, size)
        return top - self.jitter, left - self.jitter, self.side(size) + 2 * self.jitter

    def half(self, images: Tensor, position: int) -> Tensor:
        """The half ``position`` of (N, C, S, S) ``images``."""
        middle = self.canvas // 2
        return {
            0: images[..., :, :middle],
            1: images[..., :, middle:],
            2: images[..., :middle, :],
            3: images[..., middle:, :],
        }[position]

    @property
    def size_threshold(self) -> float:
        """Ink extents above this read as large."""
        return (self.large + self.small) / 2


def two_digit_vocabulary() -> list[str]:
    """Every word the two-digit captions can use."""
    return template_vocabulary(
        [*DIGIT_WORDS, *map(str, range(10)), "an"], TEMPLATES, (RELATION_WORDS, SIZE_WORDS, THICKNESS_WORDS)
    )


def digit_phrase(digit: int, size: int, thickness: int, generator: torch.Generator, numeral_p: float = 0.25) -> str:
    """``"small thick two"``, ``"7"``: the digit by word or numeral after its stated adjectives."""
    coin = torch.rand(2, generator=generator)
    words = stated_adjectives(size, thickness, bool(coin[1] < 0.5), generator)
    return " ".join([*words, str(digit) if coin[0] < numeral_p else DIGIT_WORDS[digit]])


def compose_two_digit_caption(
    digits: tuple[int, int],
    relation: int,
    sizes: tuple[int, int],
    thickness: tuple[int, int],
    generator: torch.Generator,
) -> str:
    """One caption placing ``digits[0]`` ``RELATIONS[relation]`` ``digits[1]``; sizes and
    thicknesses equal to :data:`NOT_SAID` are left out."""
    first, second = (digit_phrase(*attributes, generator) for attributes in zip(digits, sizes, thickness, strict=True))
    text = pick(TEMPLATES, generator).format(
        first=first, second=second, relation=pick(RELATION_WORDS[RELATIONS[relation]], generator)
    )
    return re.sub(r"\ba (eight|8)\b", r"an \1", text)


class TwoDigitCaptionDataset(EpochDataset):
    """Item ``index``'s digit, placed against another digit of the set, with a caption; drawn
    per ``(seed, epoch, index)``."""

    def __init__(
        self,
        digits: Tensor,
        labels: Tensor,
        thickness: Tensor,
        layout: TwoDigitLayout,
        tokenizer: Tokenizer,
        max_words: int,
        seed: int,
        omit_size_p: float = 0.3,
        label: Literal["first", "slots"] = "first",
    ) -> None:
        super().__init__(seed)
        check_label(label)
        self.label = label
        if len(labels) == 1:
            raise ValueError("A two-digit caption set needs two digits or more (or none).")
        self.sized = (scaled(digits, layout.small), scaled(digits, layout.large))
        self.labels, self.thickness = labels, thickness
        self.layout, self.tokenizer, self.max_words = layout, tokenizer, max_words
        self.omit_size_p = omit_size_p

    def __len__(self) -> int:
        return len(self.labels)

    def compose(self, items: Tensor, relation: int, sizes: Tensor, shifts: Tensor) -> Tensor:
        """The canvas with digit ``items[k]`` at size ``sizes[k]`` in half ``slots(relation)[k]``,
        shifted by ``shifts[k]`` (rows, columns)."""
        layout = self.layout
        canvas = torch.full((1, layout.canvas, layout.canvas), -1.0)
        for item, position, size, shift in zip(
            items.tolist(), slots(relation), sizes.tolist(), shifts.tolist(), strict=True
        ):
            top, left = layout.corner(position, size)
            top, left, side = top + shift[0], left + shift[1], layout.side(size)
            canvas[:, top : top + side, left : left + side] = self.sized[size][item]
        return canvas

    def draw(self, index: int) -> tuple[Tensor, Tensor, Tensor, str, dict[str, Tensor]]:
        """``(items, sizes, shifts, caption, stated attributes)`` of item ``index`` this epoch."""
        generator = self.generator(index)
        partner = (index + 1 + int(torch.randint(len(self) - 1, (1,), generator=generator))) % len(self)
        items = torch.tensor([index, partner])
        relation = int(torch.randint(len(RELATIONS), (1,), generator=generator))
        sizes = torch.randint(len(SIZES), (2,), generator=generator)
        jitter = self.layout.jitter
        shifts = torch.randint(-jitter, jitter + 1, (2, 2), generator=generator)
        said_sizes = torch.where(torch.rand(2, generator=generator) < self.omit_size_p, NOT_SAID, sizes)
        digits, thickness = self.labels[items], self.thickness[items]
        text = compose_two_digit_caption(
            tuple(digits.tolist()), relation, tuple(said_sizes.tolist()), tuple(thickness.tolist()), generator
        )
        attributes = {"digits": digits, "relation": torch.tensor(relation), "sizes": said_sizes, "thickness": thickness}
        return items, sizes, shifts, text, attributes

    def caption(self, index: int) -> str:
        """Item ``index``'s caption this epoch."""
        return self.draw(index)[3]

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        items, sizes, shifts, text, attributes = self.draw(index)
        ids, length = self.tokenizer.batch([text], max_length=self.max_words)
        image = self.compose(items, int(attributes["relation"]), sizes, shifts)
        return {
            "image": image,
            "tokens": ids[0],
            "length": length[0],
            **attributes,
            "label": self.class_label(attributes),
        }

    def class_label(self, attributes: dict[str, Tensor]) -> Tensor:
        """The ``"label"`` of an item: its first digit, or both digits by half (:func:`slot_label`)."""
        if self.label == "slots":
            return slot_label(attributes["digits"], attributes["relation"])
        return attributes["digits"][0]


class MNISTTwoDigitCaptionsDataModule(ComposedCaptionsDataModule):
    """Two captioned MNIST-5k digits per canvas, for text-to-image (module docstring). Each
    training digit is the first digit of one item per epoch, placed against a random other
    training digit; held-out items pair the held-out digits of ``MNIST5kDataModule`` (same
    ``seed`` and ``val_size``) among themselves.

    Args:
        image_size, large, small, jitter: the :class:`TwoDigitLayout` (canvas side; digit box
            sides; random shift in pixels). No shift by default: a 1-px shift (with 14- and
            11-px digits, to fit the halves) lowers the reader's ``both_digits`` on real
            held-out canvases from 0.91 to 0.87 (seed 0).
        max_words: captions are padded (or cut) to this many tokens (>= 14, the longest caption).
        omit_size_p: probability that a caption leaves out a digit's size (each digit apart).
        train_size: keep only the first this many training digits of the seeded split (null: all).
        label: the batches' ``"label"``, which a class term reads: ``first``, the caption's first
            digit (10 classes); ``slots``, both digits by half (:func:`slot_label`, 100 classes:
            ``discriminator.init_args.num_classes: 100``), so the term checks the order too.
        batch_size, val_size, num_workers, seed: as everywhere.
    """

    layout_class = TwoDigitLayout
    dataset_class = TwoDigitCaptionDataset
    longest_caption = LONGEST_CAPTION
    fewest_train_digits = 2  # two per canvas

    def __init__(
        self,
        image_size: int = 32,
        large: int = 15,
        small: int = 12,
        jitter: int = 0,
        max_words: int = 14,
        omit_size_p: float = 0.3,
        train_size: int | None = None,
        label: Literal["first", "slots"] = "first",
        batch_size: int = 64,
        val_size: int = 500,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        check_label(label)
        self.label = label
        self.num_classes = 10 if label == "first" else 100
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

    def dataset_options(self) -> dict[str, str]:
        return {"label": self.label}

    @staticmethod
    def words() -> list[str]:
        return two_digit_vocabulary()
