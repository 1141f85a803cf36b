"""The tokenizer: lower-cased words, the vocabulary in frequency order, right-padded batches with
lengths, and unknown words as <unk> in data but a one-line error naming them in prompts."""

from __future__ import annotations

import pytest

from gan_lightning.data.tokenizer import Tokenizer, UnknownWordsError


def test_tokenizer_splits_lowercases_and_round_trips():
    tokenizer = Tokenizer.from_captions(["A thick seven, on the LEFT!", "a thin 7 on the right"])
    assert tokenizer.words[:2] == ["<pad>", "<unk>"]
    ids = tokenizer.encode("a THICK 7, on the left")
    assert tokenizer.decode(ids) == "a thick 7 , on the left"
    assert tokenizer.words[2:5] == ["a", "on", "the"]  # most frequent first, ties alphabetical
    assert Tokenizer.from_captions(["b a", "a"]) == Tokenizer.from_captions(["a", "b a"])  # order-free


def test_batches_are_right_padded_with_lengths_and_cut_at_max_length():
    tokenizer = Tokenizer.from_captions(["one two three", "one"])
    ids, lengths = tokenizer.batch(["one two three", "one", ""])
    assert ids.shape == (3, 3) and lengths.tolist() == [3, 1, 1]
    assert ids[1, 1:].tolist() == [0, 0] and ids[2, 0] == 1  # padding, and an empty caption is one <unk>
    ids, lengths = tokenizer.batch(["one two three"], max_length=2)
    assert ids.shape == (1, 2) and lengths.tolist() == [2]
    ids, _ = tokenizer.batch(["one"], max_length=5)
    assert ids.shape == (1, 5)


def test_unknown_words_are_unk_in_data_and_one_clear_error_in_prompts():
    tokenizer = Tokenizer.from_captions(["a thick seven on the left"])
    assert tokenizer.encode("a purple seven") == [tokenizer.ids["a"], 1, tokenizer.ids["seven"]]
    with pytest.raises(UnknownWordsError) as caught:
        tokenizer.encode("a thikc seven in purple", strict=True)
    message = str(caught.value)
    assert "'thikc' (did you mean 'thick'?)" in message and "'purple'" in message and "'in'" in message
    assert "Known words: a left on seven the thick." in message
    assert "\n" not in message


def test_vocabulary_caps_and_rejects_bad_word_lists():
    tokenizer = Tokenizer.from_captions(["a a a b b c"], max_size=4)
    assert tokenizer.words == ["<pad>", "<unk>", "a", "b"]
    assert tokenizer.encode("c") == [1]
    with pytest.raises(ValueError, match="starts with"):
        Tokenizer(["a", "b"])
    with pytest.raises(ValueError, match="No words"):
        Tokenizer.from_captions(["", "  "])
