"""Two-digit captions (text-to-image): the caption names both digits and their relation, the
canvas has each digit in the half the caption states, items fixed per (seed, epoch, index)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_lightning.cli import GANLightningCLI, main
from gan_lightning.mnist import MNISTTwoDigitCaptionsDataModule
from gan_lightning.mnist.caption_reading import ink_extent, ink_mass
from gan_lightning.mnist.captions import DIGIT_WORDS, NOT_SAID, SIZE_WORDS, THICKNESS_WORDS
from gan_lightning.mnist.two_digits import (
    LONGEST_CAPTION,
    RELATION_WORDS,
    TwoDigitCaptionDataset,
    TwoDigitLayout,
    compose_two_digit_caption,
    slot_label,
    slots,
)
from tests.conftest import REPO_ROOT, tiny_run

NAMES = {**{word: digit for digit, word in enumerate(DIGIT_WORDS)}, **{str(digit): digit for digit in range(10)}}
RELATION_OF = {"left": 0, "right": 1, "above": 2, "over": 2, "below": 3, "under": 3}
SIZE_OF = {word: size for size, words in enumerate(SIZE_WORDS.values()) for word in words}
THICKNESS_OF = {word: value for value, words in enumerate(THICKNESS_WORDS.values()) for word in words}


def read_caption(text: str) -> dict[str, list[int] | int]:
    """What a reader of English takes from the caption: the digits in relation order (the
    digit after "with" is the one placed), the relation, each digit's size and thickness."""
    words = text.split()
    mentioned = [index for index, word in enumerate(words) if word in NAMES]
    assert len(mentioned) == 2, text
    if "with" in words:
        mentioned.reverse()
    (relation,) = {RELATION_OF[word] for word in words if word in RELATION_OF}
    sizes, thickness = [], []
    for index in mentioned:
        adjectives = []
        while words[index - len(adjectives) - 1] in {**SIZE_OF, **THICKNESS_OF}:
            adjectives.append(words[index - len(adjectives) - 1])
        sizes.append(next((SIZE_OF[w] for w in adjectives if w in SIZE_OF), NOT_SAID))
        thickness.append(next((THICKNESS_OF[w] for w in adjectives if w in THICKNESS_OF), NOT_SAID))
    return {
        "digits": [NAMES[words[i]] for i in mentioned],
        "relation": relation,
        "sizes": sizes,
        "thickness": thickness,
    }


def test_captions_say_the_stated_attributes_with_every_relation_synonym_and_template(
    two_digit_canvases: MNISTTwoDigitCaptionsDataModule,
):
    train = two_digit_canvases.train_set
    texts, seen = [], set()
    for index in range(300):
        text = train.caption(index)
        item = train[index]
        stated = {name: item[name].tolist() for name in ("digits", "relation", "sizes", "thickness")}
        assert read_caption(text) == stated, text
        assert 1 not in item["tokens"].tolist(), text  # no <unk>: the vocabulary has every word
        assert int(item["length"]) <= LONGEST_CAPTION
        texts.append(text)
        seen |= {
            phrase
            for phrases in RELATION_WORDS.values()
            for phrase in phrases
            if re.search(rf"(?<!the ){phrase}\b", text)
        }
    assert seen == {phrase for phrases in RELATION_WORDS.values() for phrase in phrases}
    joined = " ".join(texts).split()
    assert {"with", "it", "an", "tiny", "big", "bold", "thin"} <= set(joined)
    assert any(word.isdigit() for word in joined) and any(word in DIGIT_WORDS for word in joined)
    assert not any(re.search(r"\ba (eight|8)\b", text) for text in texts)
    relations = torch.stack([train[i]["relation"] for i in range(300)])
    assert relations.bincount(minlength=4).min() > 50  # every relation, about evenly


def test_the_longest_caption_fits_and_every_word_is_in_the_vocabulary(
    two_digit_canvases: MNISTTwoDigitCaptionsDataModule,
):
    generator = torch.Generator().manual_seed(0)
    longest = max(
        len(compose_two_digit_caption((5, 2), relation, (1, 0), (1, 0), generator).split())
        for relation in range(4)
        for _ in range(50)
    )
    assert longest == LONGEST_CAPTION
    tokenizer = two_digit_canvases.tokenizer
    assert len(tokenizer) == 42 and tokenizer.unknown_words("a tiny bold 8 to the right of an eight") == []


def test_each_digit_sits_in_the_half_its_caption_states(two_digit_canvases: MNISTTwoDigitCaptionsDataModule):
    held_out = two_digit_canvases.val_set
    assert isinstance(held_out, TwoDigitCaptionDataset)
    layout = held_out.layout
    sizes_read = []
    for index in range(100):
        items, sizes, _, text, _ = held_out.draw(index)
        said = read_caption(text)
        image = held_out[index]["image"][None]
        for k, position in enumerate(slots(said["relation"])):
            half = layout.half(image, position)
            digit = held_out.sized[int(sizes[k])][int(items[k])][None]
            assert int(held_out.labels[items[k]]) == said["digits"][k], text
            assert float(ink_mass(half)) == pytest.approx(float(ink_mass(digit)), rel=1e-5), text  # all its ink
            sizes_read.append((float(ink_extent(half)) > layout.size_threshold) == bool(sizes[k]))
    assert sum(sizes_read) >= 0.97 * len(sizes_read)  # a few large digits are narrow and short


def test_items_are_fixed_per_seed_epoch_and_index(two_digit_canvases: MNISTTwoDigitCaptionsDataModule):
    train, held_out = two_digit_canvases.train_set, two_digit_canvases.val_set
    first = [train[i] for i in range(16)]
    assert all(torch.equal(item["image"], train[i]["image"]) for i, item in enumerate(first))
    train.set_epoch(1)
    again = [train[i] for i in range(16)]
    train.set_epoch(0)
    assert sum(not torch.equal(a["tokens"], b["tokens"]) for a, b in zip(first, again, strict=True)) > 12
    assert all(torch.equal(item["tokens"], train[i]["tokens"]) for i, item in enumerate(first))
    same, other = (MNISTTwoDigitCaptionsDataModule(val_size=200, seed=seed) for seed in (0, 1))
    same.setup()
    other.setup()
    assert all(torch.equal(same.val_set[i]["image"], held_out[i]["image"]) for i in range(8))
    assert [same.train_set.caption(i) for i in range(8)] == [train.caption(i) for i in range(8)]
    assert [other.train_set.caption(i) for i in range(8)] != [train.caption(i) for i in range(8)]
    assert all(int(item["label"]) == int(item["digits"][0]) for item in first)


def test_the_slot_label_names_the_digit_of_each_half_whatever_the_caption_order():
    # "a 2 above a 5" and "a 5 below a 2": a 2 on top, a 5 below, one class; the swap is another.
    digits = torch.tensor([[2, 5], [5, 2], [5, 2], [3, 7], [3, 7], [0, 9]])
    relation = torch.tensor([2, 3, 2, 1, 0, 3])
    assert slot_label(digits, relation).tolist() == [25, 25, 52, 73, 37, 90]
    assert int(slot_label(torch.tensor([4, 1]), torch.tensor(1), num_classes=5)) == 5 * 1 + 4


def test_slot_labels_follow_the_canvas_not_the_caption():
    data = MNISTTwoDigitCaptionsDataModule(val_size=200, label="slots")
    data.setup()
    assert data.num_classes == 100
    for dataset in (data.train_set, data.val_set):
        for index in range(40):
            items, *_ = dataset.draw(index)
            item = dataset[index]
            by_half = dict(zip(slots(int(item["relation"])), dataset.labels[items].tolist(), strict=True))
            top_or_left = by_half.get(0, by_half.get(2))
            bottom_or_right = by_half.get(1, by_half.get(3))
            assert int(item["label"]) == 10 * top_or_left + bottom_or_right
    assert MNISTTwoDigitCaptionsDataModule().num_classes == 10


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"label": "second"}, "label must be one of"),
        ({"large": 16, "jitter": 1}, "fit its half"),
        ({"small": 15}, "small < large"),
        ({"max_words": 12}, "max_words must be >= 14"),
        ({"omit_size_p": 1.5}, "omit_size_p"),
        ({"train_size": 1}, "train_size"),
    ],
)
def test_bad_settings_are_clear_errors(bad: dict, match: str):
    with pytest.raises(ValueError, match=match):
        MNISTTwoDigitCaptionsDataModule(**bad)


def test_the_layout_centres_each_digit_in_its_half():
    layout = TwoDigitLayout()
    assert layout.corner(0, 1) == (8, 0) and layout.corner(1, 1) == (8, 16)
    assert layout.corner(2, 0) == (2, 10) and layout.corner(3, 0) == (18, 10)
    assert layout.window(3, 1) == (16, 8, 15)


def test_the_config_trains_logs_the_reading_and_samples_a_prompt(tmp_path: Path):
    """The user's path: fit configs/text2image_two_digits.yaml, then ``sample --prompt``."""
    args = tiny_run(REPO_ROOT / "configs" / "text2image_two_digits.yaml", tmp_path)
    cli = GANLightningCLI(args=[*args, "--trainer.val_check_interval=2"])
    logged = cli.trainer.callback_metrics
    assert float(logged["val/real_both_digits_accuracy"]) >= 0.85  # 8 held-out canvases, real: the ceiling
    assert {"val/both_digits_accuracy", "val/relation_accuracy", "val/first_digit_accuracy"} <= set(logged)
    checkpoint = next(tmp_path.rglob("last.ckpt"))
    main(
        [
            "sample",
            str(checkpoint),
            "--out",
            str(tmp_path / "out"),
            "--per-prompt",
            "3",
            "--prompt",
            "a small two above a five",
        ]
    )
    assert Image.open(tmp_path / "out" / "prompt_0.png").size[0] > 3 * 32
    with pytest.raises(SystemExit) as exited:
        main(["sample", str(checkpoint), "--out", str(tmp_path), "--prompt", "a two beside a five"])
    assert str(exited.value.code).startswith("error:") and "'beside'" in str(exited.value.code)
