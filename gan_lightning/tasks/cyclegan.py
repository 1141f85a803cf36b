"""CycleGAN (Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks"): two translators G_ab: A → B and G_ba: B → A trained on unpaired
images, each against a discriminator of its output domain, and tied together by cycle
consistency, G_ba(G_ab(a)) ≈ a and G_ab(G_ba(b)) ≈ b.

One iteration (one ``training_step``, one count of ``global_step``) is, as in the official
code's ``optimize_parameters``:

* **G main** — both translators in one step: the adversarial term of each direction, the
  cycle loss λ·(‖G_ba(G_ab(a)) − a‖₁ + ‖G_ab(G_ba(b)) − b‖₁) (Eq. 2-3, λ = 10) and the
  identity loss λ_id·λ·(‖G_ab(b) − b‖₁ + ‖G_ba(a) − a‖₁) (Sec. 5.2 and 7.1, λ_id = 0.5);
* **D main** — both discriminators in one step: each on real images of its domain against
  this iteration's translations mixed with older ones from a 50-image history
  (:class:`~gan_lightning.training.ImagePool`, Sec. 4; Shrivastava et al. 2017).

Batches are ``{"a": (B, C, H, W), "b": (B, C, H, W)}`` in [-1, 1] (plus ``label_a``,
``label_b`` where digits are known), as the unpaired datamodules deliver them. On held-out
batches the task logs its cycle L1 (``val/cycle_l1``) and hands ``metrics`` both translations
and both cycles (:meth:`CycleGAN.held_out_outputs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.networks import PatchDiscriminator, ResNetTranslator
from gan_lightning.objectives import AdversarialObjective, LeastSquaresLoss
from gan_lightning.seams import attached_trainer
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.image_pool import ImagePool
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

__all__ = ["ConstantThenLinearDecay", "CycleGAN"]

POOLS_KEY = "image_pools_per_rank"
"""Checkpoint entry holding every rank's image pools (a rank's own history is not rank 0's)."""


class ConstantThenLinearDecay(LRScheduler):
    """The learning rate stays at its initial value, then falls linearly to zero over the last
    ``decay_steps`` of ``total_steps`` iterations (Zhu et al. 2017, Sec. 7.1: 100 epochs at 2e-4,
    then 100 epochs of linear decay; default ``decay_steps = total_steps // 2``).

    Stepped once per iteration by the task, so ``total_steps: ${trainer.max_steps}`` in YAML
    spans the run. The factor is a closed form of the step count: resume restores it exactly.
    """

    def __init__(
        self, optimizer: Optimizer, total_steps: int, decay_steps: int | None = None, last_epoch: int = -1
    ) -> None:
        decay_steps = total_steps // 2 if decay_steps is None else decay_steps
        if total_steps < 1 or not 1 <= decay_steps <= total_steps:
            raise ValueError(
                f"ConstantThenLinearDecay needs total_steps >= 1 and 1 <= decay_steps <= total_steps, got "
                f"total_steps={total_steps}, decay_steps={decay_steps}."
            )
        self.total_steps = total_steps
        self.decay_steps = decay_steps
        super().__init__(optimizer, last_epoch)

    def factor(self, step: int) -> float:
        """1 until ``total_steps − decay_steps``, then linear to 0 at ``total_steps`` (and after)."""
        return min(1.0, max(0.0, (self.total_steps - step) / self.decay_steps))

    def get_lr(self) -> list[float]:
        return [base * self.factor(self.last_epoch) for base in self.base_lrs]


def _grey_to(images: Tensor, channels: int) -> Tensor:
    return images.expand(-1, channels, -1, -1) if images.shape[1] == 1 else images


class CycleGAN(AdversarialTask):
    """Unpaired translation between domains A and B with cycle consistency.

    Args:
        generator_ab / generator_ba: translators A → B and B → A (default: the paper's
            :class:`~gan_lightning.networks.ResNetTranslator`, 9 blocks, width 64).
        discriminator_a / discriminator_b: judge domain A and domain B images; raw logits of
            any shape, e.g. a PatchGAN map (B, 1, h, w) (default: the 70×70 PatchGAN with
            instance norm, Sec. 7.2).
        channels: image channels of both domains, used only to build the default networks.
        objective: adversarial losses on D's logits; default least squares (Sec. 4, "Training
            details", after Mao et al. 2017).
        adversarial_weight: weight of each direction's G adversarial term. Zhu et al. minimise
            E[(D(G(x)) − 1)²] for G; :class:`~gan_lightning.objectives.LeastSquaresLoss` is Mao
            et al.'s Eq. 2, ½E[(D(G(x)) − 1)²], so 2.0 restores the paper's balance against the
            cycle term. D's loss is already the paper's (halved, Sec. 4).
        cycle_weight: λ of the cycle loss (10, Sec. 4).
        identity_weight: λ_id, the identity loss's weight *relative to* λ (0.5, Sec. 7.1);
            0 disables it (needed when A and B have different channel counts).
        pool_size: images in each discriminator's history (50, Sec. 4); 0 disables the pools.
        optimization: per role (both networks of the role) the optimizer, schedule and clip
            norm (:class:`~gan_lightning.training.Optimization`); default Adam(2e-4, (0.5, 0.999))
            (Sec. 7.1), :class:`ConstantThenLinearDecay` is the paper's schedule. Moving averages
            of both translators are off by default (the paper has none); when on, samples and
            validation use them.
        num_fixed: held-out (a, b) pairs drawn in the strips of :meth:`sample_fixed`.
        metrics: what scores the held-out translations (:meth:`held_out_outputs`; any
            :class:`~gan_lightning.metrics.TaskMetrics`, a list for several), logged as ``val/<name>``
            beside the task's own ``val/cycle_l1``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    #: a | G_ab(a) | G_ba(G_ab(a)) | b | G_ba(b) | G_ab(G_ba(b)): one row per fixed pair.
    preview_nrow = 6

    def __init__(
        self,
        generator_ab: nn.Module | None = None,
        generator_ba: nn.Module | None = None,
        discriminator_a: nn.Module | None = None,
        discriminator_b: nn.Module | None = None,
        channels: int = 3,
        objective: AdversarialObjective | None = None,
        adversarial_weight: float = 2.0,
        cycle_weight: float = 10.0,
        identity_weight: float = 0.5,
        pool_size: int = 50,
        optimization: Optimization = WITHOUT_EMA,
        num_fixed: int = 8,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        for name, value in (
            ("adversarial_weight", adversarial_weight),
            ("cycle_weight", cycle_weight),
            ("identity_weight", identity_weight),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        if num_fixed < 1:
            raise ValueError(f"num_fixed must be >= 1 (held-out pairs in the strips), got {num_fixed}.")
        self.generator_ab = generator_ab if generator_ab is not None else ResNetTranslator(channels, channels)
        self.generator_ba = generator_ba if generator_ba is not None else ResNetTranslator(channels, channels)
        self.discriminator_a = discriminator_a if discriminator_a is not None else _paper_patchgan(channels)
        self.discriminator_b = discriminator_b if discriminator_b is not None else _paper_patchgan(channels)
        ins = getattr(self.generator_ab, "in_channels", None), getattr(self.generator_ab, "out_channels", None)
        if identity_weight > 0 and None not in ins and ins[0] != ins[1]:
            raise ValueError(
                f"The identity loss feeds B images to G_ab, which takes {ins[0]} channels but makes {ins[1]}: "
                "set identity_weight: 0 for domains with different channel counts."
            )
        self.keep_average("generator_ab")
        self.keep_average("generator_ba")
        self.objective = objective if objective is not None else LeastSquaresLoss()
        self.adversarial_weight = adversarial_weight
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.pool_a = ImagePool(pool_size)  # translations into A, for D_a
        self.pool_b = ImagePool(pool_size)
        self.num_fixed = num_fixed
        # the strips' held-out pairs: taken from the data in setup, not saved (the data gives them again)
        self.register_buffer("fixed_a", torch.empty(0), persistent=False)
        self.register_buffer("fixed_b", torch.empty(0), persistent=False)

    # ------------------------------------------------------------------ declarations
    def role_modules(self) -> dict[str, list[nn.Module]]:
        return {
            "generator": [self.generator_ab, self.generator_ba],
            "discriminator": [self.discriminator_a, self.discriminator_b],
        }

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.fixed_a.numel() == 0:
            self._take_fixed_pairs(getattr(getattr(self.trainer, "datamodule", None), "val_set", None))

    def _take_fixed_pairs(self, dataset: Any) -> None:
        """The first ``num_fixed`` held-out items (indexing draws nothing from the global RNG)."""
        if dataset is None or len(dataset) == 0:
            return
        items = [dataset[i] for i in range(min(self.num_fixed, len(dataset)))]
        if not all(isinstance(item, Mapping) and "a" in item and "b" in item for item in items):
            return
        self.fixed_a = torch.stack([item["a"] for item in items]).to(self.device)
        self.fixed_b = torch.stack([item["b"] for item in items]).to(self.device)

    # ------------------------------------------------------------------ translating
    def translators(self) -> tuple[nn.Module, nn.Module]:
        """(G_ab, G_ba) that samples and validation use: the moving averages when kept."""
        return self.averaged("generator_ab"), self.averaged("generator_ba")

    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        """Translate ``images`` A → B (``"ab"``) or B → A (``"ba"``) in eval mode, without
        gradients and without touching the training RNG: the contract of ``gan-lightning
        translate`` (:mod:`gan_lightning.commands.translate`), which passes ``--direction``."""
        if direction not in ("ab", "ba"):
            raise ValueError(
                f"CycleGAN translates both ways: pass direction 'ab' (A → B) or 'ba' (B → A) "
                f"(--direction ab|ba), got {direction!r}."
            )
        network = self.translators()[direction == "ba"]
        expected = getattr(network, "in_channels", None)
        if images.dim() != 4 or (expected is not None and images.shape[1] != expected):
            raise ValueError(
                f"CycleGAN expects images of shape (B, {expected}, H, W), got {tuple(images.shape)}: "
                f"the model was trained on {expected}-channel images."
            )
        with looking_only(network):
            return network(images.to(self.device))

    def forward(self, images: Tensor) -> Tensor:
        return self.translators()[0](images)

    def sample_fixed(self) -> Tensor:
        """Strips of the fixed held-out pairs, one row each:
        a | G_ab(a) | G_ba(G_ab(a)) | b | G_ba(b) | G_ab(G_ba(b)) (:attr:`preview_nrow` = 6)."""
        if self.fixed_a.numel() == 0:
            raise ValueError(
                "CycleGAN has no fixed pairs to draw: give the datamodule a held-out set (val_set of "
                "{'a', 'b'} items) or train one step first."
            )
        g_ab, g_ba = self.translators()
        with looking_only(g_ab, g_ba):
            fake_b, fake_a = g_ab(self.fixed_a), g_ba(self.fixed_b)
            columns = [self.fixed_a, fake_b, g_ba(fake_b), self.fixed_b, fake_a, g_ab(fake_a)]
        channels = max(column.shape[1] for column in columns)
        return torch.stack([_grey_to(column.float(), channels) for column in columns], dim=1).flatten(0, 1)

    # ------------------------------------------------------------------ the phases
    def adversarial(self, discriminator: nn.Module, fake: Tensor) -> Tensor:
        """G's adversarial term: ``discriminator`` (frozen by the role) on translations."""
        return self.adversarial_weight * self.objective.generator_loss(discriminator(fake).flatten(1))

    def generator_main(self, real_a: Tensor, real_b: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        """Both translators' loss (Zhu et al. 2017, Eq. 3 plus the identity loss of Sec. 5.2).
        Returns the loss, the translations (G_ab(a), G_ba(b)) for D main, and the terms."""
        fake_b, fake_a = self.generator_ab(real_a), self.generator_ba(real_b)
        terms = {
            "g_adv_ab": self.adversarial(self.discriminator_b, fake_b),
            "g_adv_ba": self.adversarial(self.discriminator_a, fake_a),
            "cycle_a": self.cycle_weight * F.l1_loss(self.generator_ba(fake_b), real_a),
            "cycle_b": self.cycle_weight * F.l1_loss(self.generator_ab(fake_a), real_b),
        }
        if self.identity_weight > 0:
            weight = self.identity_weight * self.cycle_weight
            terms["identity_a"] = weight * F.l1_loss(self.generator_ba(real_a), real_a)
            terms["identity_b"] = weight * F.l1_loss(self.generator_ab(real_b), real_b)
        loss = torch.stack(list(terms.values())).sum()
        return loss, fake_a, fake_b, {"g_loss": loss.detach(), **{k: v.detach() for k, v in terms.items()}}

    def judge(self, discriminator: nn.Module, real: Tensor, fake: Tensor, domain: str) -> tuple[Tensor, dict]:
        """One discriminator's loss on real images of its domain vs (pooled) translations."""
        real_logits, fake_logits = discriminator(real).flatten(1), discriminator(fake).flatten(1)
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        return loss, {
            f"d_loss_{domain}": loss.detach(),
            f"D_{domain}(x)": self.objective.readout(real_logits.detach()).mean(),
            f"D_{domain}(G)": self.objective.readout(fake_logits.detach()).mean(),
        }

    def discriminator_main(
        self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """D_a and D_b on real images vs translations drawn through their histories (Sec. 4)."""
        loss_a, stats_a = self.judge(self.discriminator_a, real_a, self.pool_a.query(fake_a), "a")
        loss_b, stats_b = self.judge(self.discriminator_b, real_b, self.pool_b.query(fake_b), "b")
        loss = loss_a + loss_b
        return loss, {"d_loss": loss.detach(), **stats_a, **stats_b}

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Mapping[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        real_a, real_b = unpaired_batch(batch)
        if self.fixed_a.numel() == 0:  # no held-out set: draw the strips from the first training pairs
            self.fixed_a, self.fixed_b = real_a[: self.num_fixed].clone(), real_b[: self.num_fixed].clone()

        with self.training_role("generator"):
            loss, fake_a, fake_b, g_stats = self.generator_main(real_a, real_b)
            self.step("generator", loss)

        with self.training_role("discriminator"):
            loss, d_stats = self.discriminator_main(real_a, real_b, fake_a.detach(), fake_b.detach())
            self.step("discriminator", loss)

        stats = {**g_stats, **d_stats}
        self.end_iteration(real_a.shape[0], stats)
        self.log_progress(real_a.shape[0], d_loss=stats["d_loss"], g_loss=stats["g_loss"])
        return stats

    # ------------------------------------------------------------------ held-out evaluation
    def held_out_outputs(self, batch: Mapping[str, Tensor], batch_idx: int) -> dict[str, Tensor]:
        """Both translations and both cycles of a held-out batch, in eval mode: ``ab`` = G_ab(a),
        ``ba`` = G_ba(b), ``aba`` = G_ba(G_ab(a)), ``bab`` = G_ab(G_ba(b))."""
        real_a, real_b = unpaired_batch(batch)
        g_ab, g_ba = self.translators()
        with looking_only(g_ab, g_ba):
            fake_b, fake_a = g_ab(real_a), g_ba(real_b)
            return {"ab": fake_b, "ba": fake_a, "aba": g_ba(fake_b), "bab": g_ab(fake_a)}

    def held_out_diagnostics(self, batch: Mapping[str, Tensor], outputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Cycle consistency on held-out data, whatever the domains: ``cycle_l1`` (the mean of
        ``cycle_l1_a`` = ‖G_ba(G_ab(a)) − a‖₁ and ``cycle_l1_b``)."""
        cycle_a = F.l1_loss(outputs["aba"], batch["a"])
        cycle_b = F.l1_loss(outputs["bab"], batch["b"])
        return {"cycle_l1": (cycle_a + cycle_b) / 2, "cycle_l1_a": cycle_a, "cycle_l1_b": cycle_b}

    # ------------------------------------------------------------------ every rank's image pools
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Each process keeps its own history under DDP; the state dict holds only the saving
        rank's, so every rank's pools are gathered here (a collective: Lightning builds the
        checkpoint on every rank) and :meth:`on_load_checkpoint` gives each rank its own."""
        pools = {"pool_a": self.pool_a.get_extra_state(), "pool_b": self.pool_b.get_extra_state()}
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            gathered: list[Any] = [None] * dist.get_world_size()
            dist.all_gather_object(gathered, pools)
            checkpoint[POOLS_KEY] = gathered
        else:
            checkpoint[POOLS_KEY] = [pools]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Put this rank's own pools into the state dict about to be loaded (a run with another
        number of processes starts every rank from the saving rank's pools, with a warning)."""
        super().on_load_checkpoint(checkpoint)
        per_rank = checkpoint.get(POOLS_KEY)
        if not per_rank or attached_trainer(self) is None:
            return
        world_size, rank = self.trainer.world_size, self.trainer.global_rank
        if len(per_rank) != world_size:
            rank_zero_warn(
                f"The checkpoint holds the image pools of {len(per_rank)} process(es) but this run has {world_size}: "
                "every process resumes with the first one's history, so D's fake batches differ from an "
                "uninterrupted run for a while."
            )
            return
        state = checkpoint.get("state_dict", {})
        for name, pool in per_rank[rank].items():
            state[f"{name}._extra_state"] = pool


def _paper_patchgan(channels: int) -> PatchDiscriminator:
    """The 70×70 PatchGAN with instance norm (Zhu et al. 2017, Sec. 7.2)."""
    return PatchDiscriminator(channels, num_layers=3, norm="instance")


def unpaired_batch(batch: Mapping[str, Tensor]) -> tuple[Tensor, Tensor]:
    """``(a, b)`` of an unpaired batch, with a clear error for any other batch."""
    if not isinstance(batch, Mapping) or "a" not in batch or "b" not in batch:
        found = sorted(batch) if isinstance(batch, Mapping) else type(batch).__name__
        raise ValueError(
            f"CycleGAN trains on unpaired batches {{'a': images, 'b': images}}, got {found}: use "
            "UnpairedImageFolderDataModule or MNISTStylesDataModule (or a datamodule with that batch)."
        )
    return batch["a"], batch["b"]
