"""pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks").

A generator G translates a source image x into the target y; a discriminator D judges
*pairs*, (x, y) against (x, G(x)), so it checks that the output fits its input, not only
that it looks real. G minimises the conditional GAN loss plus λ·L1 to the target (Eq. 4,
λ = 100): L1 gets the low frequencies right, D — a PatchGAN over local patches — the
texture. There is no noise z: dropout in G is the noise (Sec. 3.1), kept on at test time.

One iteration (``global_step`` += 1) reads as the reference implementation's
``optimize_parameters``: one G forward, then

* **D main** — real pair vs fake pair (fake detached), the objective halved (Sec. 3.3);
* **G main** — adversarial loss through the updated D + ``l1_weight`` × L1 to the target.

Batches are ``{"source", "target"}`` in [-1, 1]
(:class:`~gan_lightning.data.PairedImageFolderDataModule`; the MNIST demo adds ``"label"``).
On held-out batches the task makes ``{"output": translation}``; ``metrics`` score it
(:class:`~gan_lightning.metrics.TranslationScores`: L1 beside the identity and mean-target baselines).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.networks.patchgan import PatchDiscriminator
from gan_lightning.networks.unet import UNetGenerator
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.tasks.paired import PairBatch as Batch
from gan_lightning.tasks.paired import PairedTranslation, SampleMode
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

#: Isola et al. 2017, Sec. 3.3: "we divide the objective by 2 while optimizing D, which slows
#: down the rate at which D learns relative to G".
DISCRIMINATOR_LOSS_SCALE = 0.5


class Pix2Pix(PairedTranslation):
    """Conditional adversarial translation with an L1 term (Isola et al. 2017, Eq. 4).

    Args:
        generator: source (B, Cs, H, W) → target (B, Ct, H, W); default
            :class:`~gan_lightning.networks.UNetGenerator` (Sec. 3.2.1) built from the three
            sizes below.
        discriminator: raw logits (B, 1, h, w) — or (B,) — for ``cat([source, image], dim=1)``;
            default :class:`~gan_lightning.networks.PatchDiscriminator` on ``Cs + Ct`` channels
            with a receptive field scaled to ``image_size`` (Sec. 3.2.2).
        objective: the adversarial loss on logits; default non-saturating BCE, the paper's cGAN
            loss (Eq. 1, with G maximising log D(x, G(x)) as Sec. 3.3 says).
        l1_weight: λ of Eq. 4 (100 in the paper).
        source_channels, target_channels, image_size: the data's; used only to build the
            default networks.
        optimization: per role the optimizer, schedule and clip norm
            (:class:`~gan_lightning.training.Optimization`); default Adam(2e-4, (0.5, 0.999))
            (Sec. 3.3) and no moving average of G (the paper has none; with one, strips and
            validation use it).
        sample_mode: how G runs whenever the task only looks at it (strips, validation,
            :meth:`translate`). ``train`` is the paper's inference (Sec. 3.3): "exactly the same
            manner as during the training phase" — dropout on (the noise source) and batch norm
            from the test batch's statistics. ``dropout``: dropout on, running statistics (for
            small or single-image batches after training with large ones). ``eval``: deterministic.
            Either way the training RNG and G's buffers are untouched, and the dropout draws are
            seeded from ``sample_seed``, so strips and ``val/*`` numbers repeat.
        num_fixed: held-out pairs shown as strips (source | output | target), the first
            ones of the datamodule's held-out set.
        sample_seed: seed of the dropout draws when sampling.
        metrics: what scores the held-out translations, ``{"output": G(source)}``
            (:class:`~gan_lightning.metrics.TranslationScores`, or any
            :class:`~gan_lightning.metrics.TaskMetrics`; a list for several), logged as ``val/<name>``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        objective: AdversarialObjective | None = None,
        l1_weight: float = 100.0,
        source_channels: int = 3,
        target_channels: int = 3,
        image_size: int = 256,
        optimization: Optimization = WITHOUT_EMA,
        sample_mode: SampleMode = "train",
        num_fixed: int = 8,
        sample_seed: int = 0,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, sample_mode, num_fixed, sample_seed, compile)
        if l1_weight < 0:
            raise ValueError(f"l1_weight must be >= 0 (the paper's λ is 100), got {l1_weight}.")
        if generator is None:
            generator = UNetGenerator(source_channels, target_channels, image_size)
        if discriminator is None:
            discriminator = PatchDiscriminator(source_channels + target_channels, image_size=image_size)
        self.generator = generator
        self.discriminator = discriminator
        check_conditional_discriminator(self.generator, self.discriminator)
        self.keep_average("generator")
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.l1_weight = l1_weight

    # ------------------------------------------------------------------ building blocks of the phases
    def score(self, source: Tensor, image: Tensor) -> Tensor:
        """D's logits for the pair (source, image), flattened to (B, patches): the objective
        then averages over patches as PatchGAN does (Sec. 3.2.2)."""
        return self.discriminator(torch.cat([source, image.to(source.dtype)], dim=1)).flatten(1)

    # ------------------------------------------------------------------ the phases
    def discriminator_main(self, source: Tensor, target: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """D main: real pair (x, y) against fake pair (x, G(x)) — ``fake`` comes detached — with
        the objective halved (Sec. 3.3)."""
        real_logits = self.score(source, target)
        fake_logits = self.score(source, fake)
        loss = DISCRIMINATOR_LOSS_SCALE * self.objective.discriminator_loss(real_logits, fake_logits)
        stats = {
            "d_loss": loss.detach(),
            "D(x)": self.objective.readout(real_logits.detach()).mean(),
            "D(G(z))": self.objective.readout(fake_logits.detach()).mean(),
        }
        return loss, stats

    def generator_main(self, source: Tensor, target: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """G main: the adversarial loss through D + ``l1_weight`` · E‖y − G(x)‖₁ (Eq. 3-4)."""
        fake_logits = self.score(source, fake)
        real_logits = self.score(source, target) if self.objective.generator_needs_real else None
        adversarial = self.objective.generator_loss(fake_logits, real_logits)
        l1 = F.l1_loss(fake.float(), target.float())
        loss = adversarial + self.l1_weight * l1
        return loss, {"g_loss": loss.detach(), "g_adv": adversarial.detach(), "g_l1": l1.detach()}

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        source, target = batch["source"], batch["target"]
        fake = self.generator(source)  # one forward with its dropout draw, shared by both phases
        self.check_output(fake, target)

        with self.training_role("discriminator"):
            loss, d_stats = self.discriminator_main(source, target, fake.detach())
            self.step("discriminator", loss)

        with self.training_role("generator"):
            loss, g_stats = self.generator_main(source, target, fake)
            self.step("generator", loss)

        stats = {**d_stats, **g_stats}
        self.end_iteration(source.shape[0], stats)
        self.log_progress(source.shape[0], d_loss=stats["d_loss"], g_l1=stats["g_l1"])
        return stats


def check_conditional_discriminator(generator: nn.Module, discriminator: nn.Module) -> None:
    """D sees ``cat([source, image])``: its input channels must be G's in + out channels."""
    g_in, g_out = getattr(generator, "in_channels", None), getattr(generator, "out_channels", None)
    d_in = getattr(discriminator, "in_channels", None)
    if None in (g_in, g_out, d_in):
        rank_zero_warn("Pix2Pix cannot check the networks' channels (no in_channels/out_channels attributes).")
        return
    if d_in != g_in + g_out:
        raise ValueError(
            f"The discriminator takes {d_in} channels but sees cat([source, image]) = {g_in} + {g_out} channels "
            f"(the generator's in_channels + out_channels): set the discriminator's in_channels to {g_in + g_out}."
        )
