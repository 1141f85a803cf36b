"""Text for text-conditioned tasks: a word-level tokenizer built from the training captions,
and the vocabulary as checkpoint state."""

from gan_lightning.text.tokenizer import PAD, UNK, Tokenizer, UnknownWordsError, Vocabulary, split_words

__all__ = ["PAD", "UNK", "Tokenizer", "UnknownWordsError", "Vocabulary", "split_words"]
