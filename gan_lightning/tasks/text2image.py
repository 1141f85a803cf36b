"""Text-to-image synthesis: GAN-INT-CLS (Reed et al. 2016, "Generative Adversarial Text to
Image Synthesis", ICML).

G draws an image from noise and a sentence embedding; D scores (image, text) pairs. Two
ideas of the paper, both here:

* **CLS, the matching-aware discriminator** (Sec. 4.2, Algorithm 1). D sees three kinds of
  pairs: a real image with its caption (real), a real image with a *mismatched* caption
  (fake) and a generated image with the caption it was drawn for (fake); the two fake terms
  are averaged, ``L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2``. D must then judge the
  match, not only realism, and G is pushed to follow the text.
* **INT, manifold interpolation** (Sec. 4.3, Eq. 5). G is also trained on embeddings
  interpolated between two captions of the batch, ``β·t1 + (1 − β)·t2`` with β = 0.5; no
  real image is needed, because D scores the pair as it scores any generated pair.

The text encoder (word embeddings + bi-GRU, :class:`~gan_lightning.networks.TextEncoder`) is
trained from scratch here — Reed et al. pre-train a char-CNN-RNN on a separate joint
embedding objective. It belongs to the discriminator's role: it learns only from the
matching-aware loss, where knowing what the caption says is exactly what D needs; G reads
its embedding detached, so G can never make captions easier to satisfy by moving the
embedding. ``train_text_encoder=False`` keeps it frozen at its random initialisation (the
baseline that measures what this training adds; see BENCHMARKS.md).

``global_step`` counts generator updates. Batches: ``{"image", "tokens", "length"}``, and
``"label"`` (the caption's class) where the auxiliary class term is on (the MNIST captions
demo, :mod:`gan_lightning.mnist.captions`, adds it and the stated attributes). On
held-out batches the task makes one image per caption (``{"images": ...}``) for ``metrics``
to read (the demo's :class:`gan_lightning.mnist.CaptionReading`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from gan_lightning.data.tokenizer import Tokenizer, Vocabulary
from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.networks.text2image import MatchingDiscriminator, TextEncoder, TextToImageGenerator
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

Batch = dict[str, Tensor]


def matching_aware_loss(
    objective: AdversarialObjective, right_logits: Tensor, wrong_logits: Tensor, fake_logits: Tensor
) -> Tensor:
    """Reed et al. 2016, Algorithm 1: ``L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2``.

    Written with the objective's D loss, ``real term + fake term``: the mean of
    ``D loss(right, wrong)`` and ``D loss(right, fake)`` is the real term plus the average of
    the two fake terms. With the non-saturating objective it is exactly the paper's
    cross-entropy; with another objective (hinge, least squares) the same three-way split.
    ``wrong_logits`` may hold several mismatched captions per image (any shape)."""
    wrong = objective.discriminator_loss(right_logits, wrong_logits.flatten())
    fake = objective.discriminator_loss(right_logits, fake_logits)
    return (wrong + fake) / 2


def contrastive_matching(table: Tensor) -> Tensor:
    """Cross-entropy of each image's caption among all captions of the batch, from the (B, B)
    pair logits ``table[i, j]`` = D(image i, text j): the image-sentence contrastive loss of
    XMC-GAN (Zhang et al. 2021, "Cross-Modal Contrastive Learning for Text-to-Image
    Generation", Eq. 2-3, with D's pair score as the similarity). Unlike the matching-aware
    term, whose easy mismatches (another position) stop giving gradient once D rejects them,
    the softmax keeps weighting the captions that are still confused with the right one (the
    same position, another digit)."""
    return F.cross_entropy(table.float(), torch.arange(table.shape[0], device=table.device))


def auxiliary_classification(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross-entropy of D's auxiliary class logits against the caption's class: the AC-GAN
    term (Odena et al. 2017, Eq. 2-3, ``L_C``) as TAC-GAN (Dash et al. 2017) adds it to a
    text-conditioned GAN. D lowers it on real images, G on its images for the caption: G is
    then pushed to draw the class the caption names, a signal the matching score alone gives
    weakly once D accepts the position."""
    return F.cross_entropy(logits.float(), labels.long())


def mode_seeking(first: Tensor, second: Tensor, z_first: Tensor, z_second: Tensor, eps: float = 1e-5) -> Tensor:
    """MSGAN's mode-seeking term (Mao et al. 2019, Eq. 3, as their code minimises it):
    ``1 / (mean|G(z1, t) − G(z2, t)| / mean|z1 − z2| + ε)``. Two noises for the same caption
    must give images as far apart as the noises are, so G cannot ignore z."""
    ratio = (first - second).abs().mean() / (z_first - z_second).abs().mean()
    return 1 / (ratio + eps)


def mismatched(text: Tensor) -> Tensor:
    """Each sample's mismatched caption embedding: the next sample's (the batch is shuffled,
    so this is a random other caption). It can say the same as the right one by chance —
    the paper samples mismatched text at random too."""
    return text.roll(1, dims=0)


def interpolated(text: Tensor, beta: float) -> Tensor:
    """Reed et al. 2016, Eq. 5: ``β·t1 + (1 − β)·t2`` with t2 another caption of the batch."""
    return beta * text + (1 - beta) * text.roll(1, dims=0)


class TextToImage(AdversarialTask):
    """GAN-INT-CLS (Reed et al. 2016) on :class:`AdversarialTask` (module docstring).

    Args:
        generator: ``(z, text embedding) → image`` with ``latent_dim`` and ``text_dim``
            (default: :class:`TextToImageGenerator` of the sizes below).
        discriminator: ``(image, text embedding) → logits (B,)``; with ``image_features`` and
            ``judge`` (as :class:`MatchingDiscriminator`), real images go through the
            convolutions once for both their right and their mismatched text.
        text_encoder: ``(ids (B, L), lengths (B,)) → (B, text_dim)`` with ``vocab_size``
            (default: :class:`TextEncoder`). The datamodule's vocabulary must fit in it.
        objective: how logits become losses (default: non-saturating, as the paper).
        matching_aware: the CLS term — D also scores (real image, wrong text) as fake.
            ``False``: a plain text-conditional GAN (D sees right-text pairs only).
        mismatches: ``one`` mismatched caption per real image (the paper), or ``all`` the
            other captions of the batch (:meth:`real_pairs`; projection head only).
        contrastive_weight: weight of an image-caption contrastive term (XMC-GAN, Zhang et al.
            2021, Eq. 2-3) added to both losses, on real images for D and on generated ones
            for G (:func:`contrastive_matching`; projection head only). 0: off (the paper).
        auxiliary_weight: weight of the class term of TAC-GAN (Dash et al. 2017): D's auxiliary
            head (``classify``, e.g. ``MatchingDiscriminator(num_classes=10)``) learns the class of
            real images, G's images must be read as their caption's class
            (:func:`auxiliary_classification`). Needs a ``"label"`` per caption in the batches
            (the MNIST captions' digit). 0: off (the paper).
        caption_class_weight: weight of the same class term on the *caption*: a linear head on the
            sentence embedding (``caption_classifier``, trained with the encoder in D's loss) must
            read the class from the text. The encoder then has to carry what the class encodes,
            which the matching losses may not teach it: with two-object captions and a class per
            slot (``MNISTTwoDigitCaptionsDataModule(label="slots")``), which object is where —
            without it "a 2 above a 5" and "a 5 above a 2" embed alike and G cannot tell them
            apart. Needs ``auxiliary_weight > 0`` (its number of classes) and a trained encoder. 0: off.
        diversity_weight: weight of MSGAN's mode-seeking term in G's loss (Mao et al. 2019,
            :func:`mode_seeking`; one more G pass per step). 0: off (the paper).
        interpolation_weight: weight of the INT term in G's loss (0: GAN-CLS; 1: GAN-INT-CLS).
        interpolation_beta: β of the interpolated embeddings (0.5 in the paper).
        train_text_encoder: train the encoder with D (see the module docstring) or keep it frozen.
        latent_dim, text_dim, image_size, channels, vocab_size: sizes of the default networks.
        optimization: per role the optimizer, schedule and clip norm
            (:class:`~gan_lightning.training.Optimization`); a moving average of G (and of the text
            encoder, which it reads) for samples and validation is off by default (the paper has none).
        num_fixed: the first held-out captions shown in sample grids, one per row;
        noises_per_caption: images per row, one fixed noise per column.
        sample_seed: seed of the fixed noise and of validation's noise.
        metrics: what reads the held-out captions' images back (:meth:`held_out_outputs`; any
            :class:`~gan_lightning.metrics.TaskMetrics`, a list for several), logged as ``val/<name>``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        text_encoder: nn.Module | None = None,
        objective: AdversarialObjective | None = None,
        matching_aware: bool = True,
        mismatches: Literal["one", "all"] = "one",
        contrastive_weight: float = 0.0,
        auxiliary_weight: float = 0.0,
        caption_class_weight: float = 0.0,
        diversity_weight: float = 0.0,
        interpolation_weight: float = 1.0,
        interpolation_beta: float = 0.5,
        train_text_encoder: bool = True,
        latent_dim: int = 64,
        text_dim: int = 64,
        image_size: int = 32,
        channels: int = 1,
        vocab_size: int = 64,
        optimization: Optimization = WITHOUT_EMA,
        num_fixed: int = 8,
        noises_per_caption: int = 8,
        sample_seed: int = 0,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        if interpolation_weight < 0:
            raise ValueError(
                f"interpolation_weight must be >= 0 (0: no INT term, 1: the paper), got {interpolation_weight}."
            )
        if not 0 <= interpolation_beta <= 1:
            raise ValueError(f"interpolation_beta must be in [0, 1] (the paper uses 0.5), got {interpolation_beta}.")
        if contrastive_weight < 0:
            raise ValueError(f"contrastive_weight must be >= 0 (0: off), got {contrastive_weight}.")
        if min(auxiliary_weight, caption_class_weight, diversity_weight) < 0:
            raise ValueError(
                "auxiliary_weight, caption_class_weight and diversity_weight must be >= 0 (0: off), got "
                f"{auxiliary_weight}, {caption_class_weight}, {diversity_weight}."
            )
        if caption_class_weight > 0 and (auxiliary_weight == 0 or not train_text_encoder):
            raise ValueError(
                "caption_class_weight > 0 reads the class head's classes and trains the text encoder: it needs "
                "auxiliary_weight > 0 and train_text_encoder=True."
            )
        if mismatches not in ("one", "all"):
            raise ValueError(f"mismatches must be 'one' (the paper) or 'all', got {mismatches!r}.")
        if num_fixed < 1 or noises_per_caption < 1:
            raise ValueError("num_fixed and noises_per_caption must be >= 1.")
        self.text_encoder = text_encoder or TextEncoder(vocab_size, embedding_dim=text_dim)
        self.generator = generator or TextToImageGenerator(
            latent_dim, text_dim, image_size=image_size, channels=channels
        )
        self.discriminator = discriminator or MatchingDiscriminator(text_dim, image_size=image_size, channels=channels)
        check_text_sizes(self.text_encoder, self.generator, self.discriminator)
        if auxiliary_weight > 0 and not getattr(self.discriminator, "num_classes", 0):
            raise ValueError(
                "auxiliary_weight > 0 needs a discriminator with an auxiliary class head: set "
                "model.init_args.discriminator.init_args.num_classes (MatchingDiscriminator) to the number of classes."
            )
        self.caption_classifier = (
            nn.Linear(getattr(self.text_encoder, "embedding_dim", text_dim), self.discriminator.num_classes)
            if caption_class_weight > 0
            else None
        )  # built last: without it, the random stream at construction is unchanged
        if not train_text_encoder:
            self.text_encoder.requires_grad_(False)
        self.keep_average("generator")
        if train_text_encoder:
            self.keep_average("text_encoder")
        self.vocabulary = Vocabulary()
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.matching_aware = matching_aware
        self.mismatches = mismatches
        self.contrastive_weight = contrastive_weight
        self.auxiliary_weight = auxiliary_weight
        self.caption_class_weight = caption_class_weight
        self.diversity_weight = diversity_weight
        self.interpolation_weight = interpolation_weight
        self.interpolation_beta = interpolation_beta
        self.train_text_encoder = train_text_encoder
        self.latent_dim: int = self.generator.latent_dim
        self.noises_per_caption = noises_per_caption
        self.num_fixed = num_fixed
        self.sample_seed = sample_seed
        self.preview_nrow = noises_per_caption
        seeded = torch.Generator().manual_seed(sample_seed)
        self.register_buffer(
            "fixed_noise", torch.randn(noises_per_caption, self.latent_dim, generator=seeded), persistent=False
        )
        # Taken from the data at set-up (deterministic), so they are not checkpoint state.
        self.register_buffer("fixed_tokens", torch.zeros(0, dtype=torch.long), persistent=False)
        self.register_buffer("fixed_lengths", torch.zeros(0, dtype=torch.long), persistent=False)

    # ------------------------------------------------------------------ declarations
    def role_modules(self) -> dict[str, list[nn.Module]]:
        discriminator = [self.discriminator, self.text_encoder] if self.train_text_encoder else [self.discriminator]
        if self.caption_classifier is not None:
            discriminator.append(self.caption_classifier)
        return {"generator": [self.generator], "discriminator": discriminator}

    def setup(self, stage: str) -> None:
        """Besides the base's set-up: the vocabulary and the fixed captions (first held-out
        ones), from the datamodule."""
        super().setup(stage)
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None:
            return
        tokenizer = getattr(datamodule, "vocabulary", None)
        if tokenizer is not None:
            self.use_vocabulary(tokenizer)
        training = getattr(datamodule, "train_set", None)
        if stage == "fit" and self.auxiliary_weight > 0 and training is not None and len(training):
            self.require_labels(training[0].get("label"))  # before the first step, not at it
            self.check_class_count(getattr(datamodule, "num_classes", None))
        held_out = getattr(datamodule, "val_set", None)
        if held_out is not None and len(held_out) and not self.fixed_tokens.numel():
            items = [held_out[i] for i in range(min(self.num_fixed, len(held_out)))]
            self.fixed_tokens = torch.stack([item["tokens"] for item in items]).to(self.device)
            self.fixed_lengths = torch.stack([item["length"] for item in items]).to(self.device)

    def use_vocabulary(self, tokenizer: Tokenizer) -> None:
        """Adopt the data's vocabulary; a model that already has another one (a checkpoint
        trained on other captions) refuses it: its word ids would mean other words."""
        vocab_size = getattr(self.text_encoder, "vocab_size", None)
        if vocab_size is not None and len(tokenizer) > vocab_size:
            raise ValueError(
                f"The captions have {len(tokenizer)} words (with <pad>, <unk>) but the text encoder's vocab_size is "
                f"{vocab_size}: set model.init_args.vocab_size (or the encoder's) to at least {len(tokenizer)}, or "
                "cap the data's vocabulary (max_vocab_size)."
            )
        current = self.vocabulary.tokenizer
        if current is not None and current != tokenizer:
            raise ValueError(
                f"This model was trained with another vocabulary ({len(current)} words) than the data's "
                f"({len(tokenizer)} words): word ids would change meaning. Train it from scratch on these captions."
            )
        self.vocabulary.set(tokenizer)

    # ------------------------------------------------------------------ text and sampling
    def sample_latent(self, num: int, generator: torch.Generator | None = None) -> Tensor:
        device = generator.device if generator is not None else self.device
        return torch.randn(num, self.latent_dim, generator=generator, device=device).to(self.device)

    def generate(self, latent: Tensor, tokens: Tensor, lengths: Tensor, use_ema: bool = True) -> Tensor:
        """Images for (noise, caption) pairs, in eval mode, without gradients or touching the
        training RNG streams."""
        generator = self.sampling_generator if use_ema else self.generator
        encoder = self.averaged("text_encoder") if use_ema else self.text_encoder
        with looking_only(generator, encoder):
            text = encoder(tokens.to(self.device), lengths.to(self.device))
            return generator(latent.to(self.device), text)

    def encode_prompts(self, prompts: Sequence[str]) -> tuple[Tensor, Tensor]:
        """Token ids and lengths of ``prompts``; a word the model never saw is an
        :class:`~gan_lightning.text.UnknownWordsError` naming it and the known words."""
        return self.vocabulary.require().batch(list(prompts), strict=True)

    def sample_captions(
        self, prompts: Sequence[str], num_per_prompt: int = 8, seed: int = 0, use_ema: bool = True
    ) -> Tensor:
        """(len(prompts) · num_per_prompt, C, H, W) images, ``num_per_prompt`` noises per
        prompt (the same noises for every prompt), seeded: the contract of ``gan-lightning
        sample --prompt``."""
        if num_per_prompt < 1:
            raise ValueError(f"num_per_prompt must be >= 1, got {num_per_prompt}.")
        tokens, lengths = self.encode_prompts(prompts)
        noise = torch.randn(num_per_prompt, self.latent_dim, generator=torch.Generator().manual_seed(seed))
        count = len(prompts)
        return self.generate(
            noise.repeat(count, 1),
            tokens.repeat_interleave(num_per_prompt, 0),
            lengths.repeat_interleave(num_per_prompt, 0),
            use_ema=use_ema,
        )

    def fixed_captions(self) -> list[str]:
        """The held-out captions of the sample grids, one per row."""
        tokenizer = self.vocabulary.require()
        return [
            tokenizer.decode(ids[:length]) for ids, length in zip(self.fixed_tokens, self.fixed_lengths, strict=True)
        ]

    def sample_fixed(self) -> Tensor:
        """One row per fixed held-out caption, one column per fixed noise."""
        if not self.fixed_tokens.numel():
            raise ValueError(
                "TextToImage has no fixed captions yet: they are the first captions of the datamodule's val_set, "
                "taken at set-up. Fit or validate with a caption datamodule that has held-out items."
            )
        count, per = len(self.fixed_tokens), self.noises_per_caption
        return self.generate(
            self.fixed_noise.repeat(count, 1),
            self.fixed_tokens.repeat_interleave(per, 0),
            self.fixed_lengths.repeat_interleave(per, 0),
        )

    # ------------------------------------------------------------------ building blocks of the phases
    def score_pairs(self, images: Tensor, texts: Sequence[Tensor], features: Tensor | None = None) -> list[Tensor]:
        """D's logits for ``images`` with each embedding of ``texts``, the image
        convolutions run once when D splits them (``image_features``/``judge``);
        ``features``: those of ``images``, already computed."""
        if hasattr(self.discriminator, "image_features") and hasattr(self.discriminator, "judge"):
            features = self.discriminator.image_features(images) if features is None else features
            return [self.discriminator.judge(features, text) for text in texts]
        return [self.discriminator(images, text) for text in texts]

    def pair_table(self, images: Tensor, text: Tensor, features: Tensor | None = None) -> Tensor:
        """(B, B) logits of every image with every caption of the batch (``judge_all``)."""
        judge_all = getattr(self.discriminator, "judge_all", None)
        if judge_all is not None and features is None:
            features = self.discriminator.image_features(images)
        table = judge_all(features, text) if judge_all is not None else None
        if table is None:
            raise ValueError(
                "mismatches='all' and contrastive_weight > 0 need a discriminator whose judge_all scores every pair "
                "(MatchingDiscriminator with head='projection')."
            )
        return table

    def real_pairs(
        self, real: Tensor, text: Tensor, features: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Logits of real images with their right caption (B,); with mismatched captions
        (``None`` without the CLS term); and the (B, B) table of all pairs where one is
        needed (the contrastive term, ``mismatches="all"``). ``mismatches="one"``: the next
        sample's caption, (B,). ``"all"``: every other caption of the batch, (B, B − 1) — the
        same expectation over mismatched text as the paper's single draw, estimated from
        B − 1 draws instead of one, at the cost of one matrix product."""
        all_mismatches = self.matching_aware and self.mismatches == "all"
        if self.contrastive_weight == 0 and not all_mismatches:
            if not self.matching_aware:
                return self.score_pairs(real, [text], features)[0], None, None
            right, wrong = self.score_pairs(real, [text, mismatched(text)], features)
            return right, wrong, None
        table = self.pair_table(real, text, features)
        size = table.shape[0]
        if not self.matching_aware:
            return table.diagonal(), None, table
        if all_mismatches:
            off_diagonal = ~torch.eye(size, dtype=torch.bool, device=table.device)
            return table.diagonal(), table[off_diagonal].view(size, size - 1), table
        rows = torch.arange(size, device=table.device)
        return table.diagonal(), table[rows, rows - 1], table  # text i - 1 is mismatched(text)[i]

    # ------------------------------------------------------------------ the phases
    def discriminator_main(
        self, real: Tensor, fake: Tensor, text: Tensor, labels: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D main (Algorithm 1, lines 6-9): ``fake`` comes detached; ``text`` carries the
        encoder's graph when the encoder trains with D. Without ``matching_aware``, the
        plain conditional loss on (real, right text) against (fake, right text). With
        ``auxiliary_weight``, plus the class term on the real images' ``labels``; with
        ``caption_class_weight``, the class term on the captions' embeddings ``text``."""
        features = self.discriminator.image_features(real) if self.auxiliary_weight > 0 else None
        right_logits, wrong_logits, table = self.real_pairs(real, text, features)
        (fake_logits,) = self.score_pairs(fake, [text])
        if wrong_logits is not None:
            loss = matching_aware_loss(self.objective, right_logits, wrong_logits, fake_logits)
        else:
            loss = self.objective.discriminator_loss(right_logits, fake_logits)
        readout = self.objective.readout
        stats = {"D(x)": readout(right_logits.detach()).mean(), "D(G(z))": readout(fake_logits.detach()).mean()}
        if wrong_logits is not None:
            stats["D(x,wrong)"] = readout(wrong_logits.detach()).mean()
        if table is not None and self.contrastive_weight > 0:
            term = contrastive_matching(table)
            loss = loss + self.contrastive_weight * term
            stats["d_contrastive"] = term.detach()
        if features is not None:
            term = auxiliary_classification(self.discriminator.classify(features), self.require_labels(labels))
            loss = loss + self.auxiliary_weight * term
            stats["d_class"] = term.detach()
        if self.caption_classifier is not None:
            term = auxiliary_classification(self.caption_classifier(text), self.require_labels(labels))
            loss = loss + self.caption_class_weight * term
            stats["caption_class"] = term.detach()
        stats["d_loss"] = loss.detach()
        return loss, stats

    def generator_main(
        self, fake: Tensor, text: Tensor, labels: Tensor | None = None, z: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """G main: the adversarial loss on (G(z, t), t), plus ``interpolation_weight`` × the
        same loss on G(z, t_int) with t_int interpolated between captions (Eq. 5); with
        ``auxiliary_weight``, the class term of ``fake`` against ``labels``; with
        ``diversity_weight``, the mode-seeking term against a second noise (``z``: ``fake``'s)."""
        features = self.discriminator.image_features(fake) if self.auxiliary_weight > 0 else None
        table = self.pair_table(fake, text, features) if self.contrastive_weight > 0 else None
        (fake_logits,) = [table.diagonal()] if table is not None else self.score_pairs(fake, [text], features)
        adversarial = self.objective.generator_loss(fake_logits)
        stats = {"g_adv": adversarial.detach()}
        loss = adversarial
        if table is not None:
            term = contrastive_matching(table)
            loss = loss + self.contrastive_weight * term
            stats["g_contrastive"] = term.detach()
        if self.interpolation_weight > 0:
            between = interpolated(text, self.interpolation_beta)
            z = self.sample_latent(text.shape[0])
            (between_logits,) = self.score_pairs(self.generator(z, between), [between])
            term = self.objective.generator_loss(between_logits)
            loss = loss + self.interpolation_weight * term
            stats["g_int"] = term.detach()
        if features is not None:
            term = auxiliary_classification(self.discriminator.classify(features), self.require_labels(labels))
            loss = loss + self.auxiliary_weight * term
            stats["g_class"] = term.detach()
        if self.diversity_weight > 0:
            term = self.mode_seeking_term(fake, text, z)
            loss = loss + self.diversity_weight * term
            stats["g_mode_seeking"] = term.detach()
        stats["g_loss"] = loss.detach()
        return loss, stats

    def mode_seeking_term(self, fake: Tensor, text: Tensor, z: Tensor | None) -> Tensor:
        """:func:`mode_seeking` of ``fake`` = G(z, t) against G(z2, t) for a fresh noise z2."""
        if z is None:
            raise ValueError("diversity_weight > 0: generator_main needs the noise z that drew fake.")
        z_second = self.sample_latent(text.shape[0])
        return mode_seeking(fake, self.generator(z_second, text), z, z_second)

    def check_class_count(self, data_classes: int | None) -> None:
        """D's class head must have one output per class of the data's ``"label"``: fewer fail
        deep in the loss, more leave classes no image ever has."""
        head = self.discriminator.num_classes
        if data_classes is not None and head != data_classes:
            raise ValueError(
                f"the data's labels have {data_classes} classes but the discriminator's class head has {head}: set "
                f"model.init_args.discriminator.init_args.num_classes={data_classes}."
            )

    def require_labels(self, labels: Tensor | None) -> Tensor:
        """The batch's class labels, which the class term needs."""
        if labels is None:
            raise ValueError(
                'auxiliary_weight > 0 needs a class label per caption: a "label" entry in each batch '
                "(MNISTCaptionsDataModule has one); set auxiliary_weight=0 for captions without classes."
            )
        return labels

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        real, tokens, lengths = batch["image"], batch["tokens"], batch["length"]
        size = real.shape[0]
        text = self.text_encoder(tokens, lengths)  # its graph reaches D's loss only
        labels = batch.get("label")
        z = self.sample_latent(size)
        fake = self.generator(z, text.detach())  # one forward, shared by both phases

        with self.training_role("discriminator"):
            loss, d_stats = self.discriminator_main(real, fake.detach(), text, labels)
            self.step("discriminator", loss)

        with self.training_role("generator"):
            loss, g_stats = self.generator_main(fake, text.detach(), labels, z)
            self.step("generator", loss)

        stats = {**d_stats, **g_stats}
        self.end_iteration(size, stats)
        self.log_progress(size, d_loss=stats["d_loss"], g_loss=stats["g_loss"])
        return stats

    # ------------------------------------------------------------------ held-out outputs
    def held_out_images(self, batch: Batch, batch_idx: int) -> Tensor:
        """One image per caption of ``batch``, from noise seeded by ``sample_seed`` and the
        batch index: validation numbers repeat and leave the training RNG alone."""
        seed = self.sample_seed * 100_003 + batch_idx
        noise = torch.randn(batch["tokens"].shape[0], self.latent_dim, generator=torch.Generator().manual_seed(seed))
        return self.generate(noise, batch["tokens"], batch["length"])

    def held_out_outputs(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        """``{"images": ...}``: one image per caption of ``batch`` (:meth:`held_out_images`)."""
        return {"images": self.held_out_images(batch, batch_idx)}

    def predict_step(self, batch: Batch, batch_idx: int) -> Tensor:
        """Images for each batch's captions, noise seeded per batch."""
        return self.held_out_images(batch, batch_idx)


def check_text_sizes(encoder: nn.Module, generator: nn.Module, discriminator: nn.Module) -> None:
    """The encoder's embedding size must be what G and D read."""
    out = getattr(encoder, "embedding_dim", None)
    for name, network in (("generator", generator), ("discriminator", discriminator)):
        expected = getattr(network, "text_dim", None)
        if out is None or expected is None:
            rank_zero_warn(f"TextToImage cannot check the {name}'s text size (no embedding_dim/text_dim attributes).")
        elif out != expected:
            raise ValueError(
                f"The text encoder makes {out}-d sentence embeddings but the {name} reads text_dim={expected}: "
                "set them equal (model.init_args.text_dim sets both for the default networks)."
            )
