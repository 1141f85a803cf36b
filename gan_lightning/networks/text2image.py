"""Networks of GAN-INT-CLS (Reed et al. 2016, "Generative Adversarial Text to Image
Synthesis"), sized for small grey canvases: a text encoder trained from scratch, a
generator conditioned on the sentence embedding, and a discriminator that judges whether an
image is real *and* matches its text.

Reed et al. encode text with a pre-trained char-CNN-RNN; here a word embedding + bi-GRU is
trained from scratch with the discriminator (see :class:`~gan_lightning.tasks.TextToImage`).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from gan_lightning.networks.dcgan import DCGANDiscriminator, DCGANGenerator, upsampling_plan
from gan_lightning.networks.init import dcgan_init
from gan_lightning.networks.layers import Normalization, maybe_spectral, normalization_layer


class TextEncoder(nn.Module):
    """Word ids (B, L) right-padded with 0 and their lengths (B,) → a sentence embedding (B, D).

    Word embeddings → a (bi)directional GRU over the words (padding skipped) → ``pooling``:
    the last hidden state of each direction (``last``) or the mean of the GRU's outputs over
    the words (``mean``: every word's state contributes directly, whatever its place in the
    sentence) → a linear layer. ``vocab_size`` is the size of the embedding table: the
    tokenizer's vocabulary must fit in it (the task checks).
    """

    def __init__(
        self,
        vocab_size: int = 64,
        word_dim: int = 32,
        hidden_dim: int = 64,
        embedding_dim: int = 64,
        bidirectional: bool = True,
        pooling: Literal["last", "mean"] = "mean",
    ) -> None:
        super().__init__()
        if min(vocab_size, word_dim, hidden_dim, embedding_dim) < 1:
            raise ValueError("vocab_size, word_dim, hidden_dim and embedding_dim must be positive integers.")
        if pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', got {pooling!r}.")
        self.pooling = pooling
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, hidden_dim, batch_first=True, bidirectional=bidirectional)
        self.out = nn.Linear(hidden_dim * (2 if bidirectional else 1), embedding_dim)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        if ids.dim() != 2 or lengths.shape != ids.shape[:1]:
            raise ValueError(
                f"TextEncoder expects ids (B, L) and lengths (B,), got {tuple(ids.shape)}, {tuple(lengths.shape)}."
            )
        if int(ids.max()) >= self.vocab_size:
            raise ValueError(
                f"Word id {int(ids.max())} does not fit the text encoder's vocab_size={self.vocab_size}: raise it."
            )
        lengths = lengths.clamp(min=1)
        packed = pack_padded_sequence(self.words(ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, hidden = self.rnn(packed)  # hidden: (directions, B, H)
        if self.pooling == "last":
            return self.out(torch.cat(list(hidden), dim=1))
        states, _ = pad_packed_sequence(outputs, batch_first=True, total_length=ids.shape[1])  # zeros past the end
        return self.out(states.sum(dim=1) / lengths[:, None].to(states.dtype))


def text_condition(text_dim: int, condition_dim: int, batch_norm: bool = False) -> nn.Sequential:
    """Reed et al. 2016, Sec. 4.1: the embedding is "compressed using a fully-connected layer
    to a small dimension followed by leaky-ReLU" before it meets the image or the noise. The
    authors' GAN-INT-CLS code (reedscot/icml2016, ``main_cls_int.lua``) puts a batch norm
    between the two in D (``fcD``) and none in G (``fcG``): ``batch_norm`` adds it."""
    norm = nn.BatchNorm1d(condition_dim) if batch_norm else nn.Identity()
    return nn.Sequential(nn.Linear(text_dim, condition_dim), norm, nn.LeakyReLU(0.2))


class TextToImageGenerator(nn.Module):
    """(z, sentence embedding) → image: the compressed embedding is concatenated to z and a
    DCGAN generator upsamples the result (Reed et al. 2016, Sec. 4.1, Fig. 2)."""

    def __init__(
        self,
        latent_dim: int = 64,
        text_dim: int = 64,
        condition_dim: int = 64,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: Normalization = "batch",
    ) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.text_dim = text_dim
        self.image_size = image_size
        self.channels = channels
        self.condition = text_condition(text_dim, condition_dim)
        self.body = DCGANGenerator(latent_dim + condition_dim, image_size, channels, base_width, norm)
        self.condition.apply(dcgan_init)

    def forward(self, z: Tensor, text: Tensor) -> Tensor:
        if text.dim() != 2 or text.shape[1] != self.text_dim:
            raise ValueError(f"The generator reads sentence embeddings (B, {self.text_dim}), got {tuple(text.shape)}.")
        return self.body(torch.cat([z.flatten(1), self.condition(text.to(z.dtype))], dim=1))


class MatchingDiscriminator(nn.Module):
    """(image, sentence embedding) → one logit: is this a real image matching the text?

    DCGAN convolutions take the image to a 4×4 map; the text embedding is compressed by a
    linear layer, a batch norm when ``norm="batch"`` (the authors' ``fcD``; other norms keep
    the text path free of batch statistics too) and leaky ReLU. ``head="concat"`` (Reed et
    al. 2016, Sec. 4.1): the compressed embedding is replicated spatially, concatenated
    depth-wise, and a 1×1 conv + a 4×4 conv give the score. ``head="projection"`` (Miyato &
    Koyama 2018, Eq. 3, with the whole map instead of its pooled vector so that *where* stays
    visible): an unconditional 4×4 conv plus the inner product of the map with a text-dependent map,
    ``ψ(φ(x)) + ⟨V t, φ(x)⟩``. :meth:`image_features` and :meth:`judge` split the two halves,
    so one pass over real images serves both their right and their mismatched text.

    ``num_classes > 0`` adds an auxiliary classifier on the same image features, a linear
    layer to class logits (:meth:`classify`): the AC-GAN head (Odena et al. 2017), used for
    text by TAC-GAN (Dash et al. 2017). 0 (the default): no head, no extra parameters.
    """

    def __init__(
        self,
        text_dim: int = 64,
        condition_dim: int = 64,
        image_size: int = 32,
        channels: int = 1,
        base_width: int = 32,
        norm: Normalization = "batch",
        head: Literal["concat", "projection"] = "concat",
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0 (0: no auxiliary classifier), got {num_classes}.")
        if head not in ("concat", "projection"):
            raise ValueError(f"head must be 'concat' (Reed et al.) or 'projection' (Miyato & Koyama), got {head!r}.")
        self.text_dim = text_dim
        self.image_size = image_size
        self.channels = channels
        self.head_kind = head
        self.num_classes = num_classes
        start, doublings = upsampling_plan(image_size)
        width = base_width * 2 ** (doublings - 1)
        self.body = DCGANDiscriminator(image_size, channels, base_width, norm)
        self.body.net = self.body.net[:-1]  # up to the (width, start, start) features
        self.condition = text_condition(text_dim, condition_dim, batch_norm=norm == "batch")
        if head == "concat":
            self.head = nn.Sequential(
                maybe_spectral(nn.Conv2d(width + condition_dim, width, 1, bias=norm in ("none", "spectral")), norm),
                normalization_layer(norm, width),
                nn.LeakyReLU(0.2, inplace=True),
                maybe_spectral(nn.Conv2d(width, 1, start), norm),
            )
        else:
            self.head = maybe_spectral(nn.Conv2d(width, 1, start), norm)
            self.projection = maybe_spectral(nn.Linear(condition_dim, width * start * start, bias=False), norm)
        self.condition.apply(dcgan_init)
        self.head.apply(dcgan_init)
        if head == "projection":
            self.projection.apply(dcgan_init)
        if num_classes:  # built last: without it, the random stream at construction is unchanged
            self.classifier = maybe_spectral(nn.Linear(width * start * start, num_classes), norm)

    def image_features(self, images: Tensor) -> Tensor:
        return self.body.net(_check_images(images, self.channels, self.image_size))

    def judge(self, features: Tensor, text: Tensor) -> Tensor:
        """Logits (B,) for image features (B, C, s, s) and embeddings (B, text_dim)."""
        condition = self.condition(text.to(features.dtype))
        if self.head_kind == "projection":
            match = (self.projection(condition) * features.flatten(1)).sum(dim=1)
            return self.head(features).flatten() + match
        tiled = condition[:, :, None, None].expand(-1, -1, *features.shape[-2:])
        return self.head(torch.cat([features, tiled], dim=1)).flatten()

    def classify(self, features: Tensor) -> Tensor:
        """Class logits (B, num_classes) of image features (B, C, s, s): the auxiliary head."""
        if not self.num_classes:
            raise ValueError("This MatchingDiscriminator has no auxiliary classifier: build it with num_classes > 0.")
        return self.classifier(features.flatten(1))

    def judge_all(self, features: Tensor, text: Tensor) -> Tensor | None:
        """Logits (B, B) of every image with every embedding, ``[i, j]`` = image i with text j,
        for the projection head (one matrix product); ``None`` for the concat head, where it
        would cost B² head passes."""
        if self.head_kind != "projection":
            return None
        condition = self.condition(text.to(features.dtype))
        match = features.flatten(1) @ self.projection(condition).T
        return self.head(features).flatten()[:, None] + match

    def forward(self, images: Tensor, text: Tensor) -> Tensor:
        return self.judge(self.image_features(images), text)


def _check_images(images: Tensor, channels: int, size: int) -> Tensor:
    if images.dim() != 4 or images.shape[1:] != (channels, size, size):
        raise ValueError(
            f"The discriminator expects images of shape (B, {channels}, {size}, {size}) but got "
            f"{tuple(images.shape)}: set its channels/image_size to the data's."
        )
    return images
