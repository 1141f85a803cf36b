"""A word-level tokenizer built from the training captions.

Text-to-image GANs read captions through a text encoder trained from scratch here (no
downloaded model), so the vocabulary is simply the words of the training captions:
lower-cased, punctuation split off as tokens of its own. Index 0 is ``<pad>`` (batches are
right-padded with it) and 1 is ``<unk>`` (a word outside the vocabulary). The vocabulary is
part of the trained model: the task keeps it in its checkpoint (:class:`Vocabulary`), so
``gan-lightning sample --prompt`` encodes a prompt exactly as training did.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_lightning.errors import GanLightningError

PAD, UNK = "<pad>", "<unk>"
SPECIALS = (PAD, UNK)
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


class UnknownWordsError(GanLightningError, ValueError):
    """A prompt uses words the model never saw in its training captions."""


def split_words(text: str) -> list[str]:
    """``"A thick 7, left!"`` → ``["a", "thick", "7", ",", "left", "!"]``: lower case, runs of
    letters/digits are words, every other non-space character is a token of its own."""
    return _TOKEN.findall(text.lower())


class Tokenizer:
    """Words ↔ ids. ``words`` lists the vocabulary in id order, starting with ``<pad>, <unk>``.

    Build one with :meth:`from_captions`; encode with :meth:`encode` (one caption) or
    :meth:`batch` (padded ids and lengths).
    """

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        if words[:2] != list(SPECIALS):
            raise ValueError(f"A vocabulary starts with {PAD!r}, {UNK!r}; got {words[:2]!r}.")
        if len(set(words)) != len(words):
            raise ValueError("A vocabulary lists each word once.")
        self.words = words
        self.ids = {word: index for index, word in enumerate(words)}

    @classmethod
    def from_captions(cls, captions: Iterable[str], max_size: int | None = None, min_count: int = 1) -> Tokenizer:
        """The words of ``captions``, most frequent first (ties alphabetical, so the same
        captions always give the same ids), at most ``max_size`` entries with the two specials;
        rarer words and words seen fewer than ``min_count`` times become ``<unk>``."""
        if max_size is not None and max_size < 3:
            raise ValueError(f"max_size must leave room for <pad>, <unk> and one word (>= 3), got {max_size}.")
        counts = Counter(word for caption in captions for word in split_words(caption))
        ranked = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        if not ranked:
            raise ValueError("No words in the captions: a vocabulary needs at least one caption with a word.")
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIALS)]
        return cls([*SPECIALS, *ranked])

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and self.words == other.words

    def __repr__(self) -> str:
        return f"Tokenizer({len(self)} words)"

    @property
    def known_words(self) -> list[str]:
        """The vocabulary without the specials, alphabetically (for messages and docs)."""
        return sorted(self.words[len(SPECIALS) :])

    def unknown_words(self, text: str) -> list[str]:
        return [word for word in split_words(text) if word not in self.ids]

    def check_known(self, text: str) -> None:
        """Raise :class:`UnknownWordsError` naming every unknown word of ``text``, a
        did-you-mean for each where one is close, and the known vocabulary."""
        unknown = list(dict.fromkeys(self.unknown_words(text)))
        if not unknown:
            return
        hints = []
        for word in unknown:
            close = difflib.get_close_matches(word, self.known_words, n=1, cutoff=0.6)
            hints.append(f"{word!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise UnknownWordsError(
            f"The prompt {text!r} uses word(s) the model never saw in its training captions: {', '.join(hints)}. "
            f"Known words: {' '.join(self.known_words)}."
        )

    def encode(self, text: str, strict: bool = False) -> list[int]:
        """Ids of ``text``'s words; unknown words are ``<unk>`` (``strict``: an error)."""
        if strict:
            self.check_known(text)
        unk = self.ids[UNK]
        return [self.ids.get(word, unk) for word in split_words(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """Words of ``ids`` joined by spaces, padding dropped."""
        return " ".join(self.words[int(i)] for i in ids if int(i) != self.ids[PAD])

    def batch(self, texts: Sequence[str], max_length: int | None = None, strict: bool = False) -> tuple[Tensor, Tensor]:
        """``(ids, lengths)``: (B, L) int64 right-padded with ``<pad>`` and (B,) word counts;
        L is the longest caption, or ``max_length`` (longer captions are cut there). An
        empty caption is one ``<unk>``, so every sequence has a word for the encoder to read."""
        encoded = [self.encode(text, strict=strict) or [self.ids[UNK]] for text in texts]
        if max_length is not None:
            if max_length < 1:
                raise ValueError(f"max_length must be >= 1, got {max_length}.")
            encoded = [ids[:max_length] for ids in encoded]
        width = max_length if max_length is not None else max(map(len, encoded), default=1)
        ids = torch.zeros(len(encoded), width, dtype=torch.long)
        for row, sequence in enumerate(encoded):
            ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
        return ids, torch.tensor([len(sequence) for sequence in encoded], dtype=torch.long)


class Vocabulary(nn.Module):
    """The tokenizer as part of a model's ``state_dict`` (``get_extra_state``): it travels
    in every checkpoint and is restored by ``load_state_dict``, so a model reloaded for
    sampling encodes prompts as it did in training. Empty until :meth:`set` is called."""

    def __init__(self) -> None:
        super().__init__()
        self.tokenizer: Tokenizer | None = None

    def set(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def require(self) -> Tokenizer:
        if self.tokenizer is None:
            raise ValueError(
                "The model has no vocabulary yet: it is taken from the datamodule when training starts "
                "(or from a checkpoint). Fit it with a caption datamodule first."
            )
        return self.tokenizer

    def get_extra_state(self) -> Any:
        return {"words": list(self.tokenizer.words) if self.tokenizer is not None else []}

    def set_extra_state(self, state: Any) -> None:
        words = state.get("words", []) if isinstance(state, dict) else []
        self.tokenizer = Tokenizer(words) if words else None
