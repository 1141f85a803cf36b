"""SRGAN (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a GAN").

A generator maps a low-resolution image (LR) to a ``scale`` times larger one (SR); a
discriminator tells SR from the real high-resolution image (HR). The generator minimises
the perceptual loss of Eq. 3,

    l_SR = pixel_weight · MSE(SR, HR) + perceptual_weight · MSE(φ(SR), φ(HR)) + adversarial_weight · l_Gen,

with ``adversarial_weight = 1e-3`` as in the paper and l_Gen the objective's generator loss
(Eq. 6 is the non-saturating ``-log D(G(LR))``). The paper's φ is VGG19's ``φ5,4`` with the
feature maps rescaled by 1/12.75 (:class:`~gan_lightning.metrics.VGGLoss`, torchvision's
weights from a local file; ``configs/srgan_vgg.yaml``: ``pixel_weight: 0``, SRGAN-VGG54); any
other local feature network fits too (:class:`~gan_lightning.metrics.PerceptualLoss`, e.g. the
shipped MNIST classifier), and the pixel MSE alone is SRGAN-MSE.

The default generator predicts a residual over the bicubic upscale of LR and starts *as*
bicubic interpolation (:class:`~gan_lightning.networks.SRResNet`, ``residual=True``), so a run
on photographs is above the bicubic baseline from its first iterations; the paper's
generator, which makes the whole image, is ``residual: false``.

The paper initialises SRGAN with a trained SRResNet (Sec. 3.2) to avoid poor local optima:
``pretrain_steps`` iterations of MSE-only generator updates run first, the discriminator
untouched. Those iterations are generator updates, so they count in ``global_step`` (and so
in ``max_steps``, schedules, checkpoints and the EMA) like the adversarial ones.

Batches are ``{"source": LR, "target": HR}`` in [-1, 1] (plus ``"label"``, the digit class,
in the MNIST demo); see :mod:`gan_lightning.data.super_resolution`. On held-out batches the
task makes ``{"output": SR}``; ``metrics`` score it
(:class:`~gan_lightning.metrics.RestorationScores`: PSNR and SSIM beside the bicubic baseline).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.metrics.restoration import PerceptualLoss, bicubic_upscale
from gan_lightning.networks.srresnet import SRGANDiscriminator, SRResNet
from gan_lightning.objectives import AdversarialObjective, NonSaturatingLoss
from gan_lightning.seams import attached_trainer
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

__all__ = ["SRGAN"]


def unpack(batch: Any) -> tuple[Tensor, Tensor, Tensor | None]:
    """``(LR, HR, labels or None)`` from a super-resolution batch."""
    if not isinstance(batch, Mapping) or "source" not in batch or "target" not in batch:
        raise ValueError(
            "SRGAN trains on batches {'source': LR, 'target': HR}: use a super-resolution datamodule "
            "(gan_lightning.data.SuperResolutionFolderDataModule or gan_lightning.mnist.MNISTSuperResolutionDataModule)."
        )
    return batch["source"], batch["target"], batch.get("label")


class SRGAN(AdversarialTask):
    """Super-resolution by adversarial training of ``generator`` (LR → SR) against ``discriminator``.

    One iteration: **D main** (D on HR vs. the detached SR), then **G main** (pixel +
    perceptual + weighted adversarial loss). During the first ``pretrain_steps`` iterations
    only **G warm-up** runs (pixel MSE alone: SRResNet-MSE), D is neither used nor updated.
    The generator runs once per iteration: it is deterministic given LR, so D's update and
    G's loss see the same SR batch (D sees it detached).

    Validation hands ``metrics`` the SR images of each held-out batch (``{"output": SR}``):
    :class:`~gan_lightning.metrics.RestorationScores` logs ``val/psnr`` and ``val/ssim`` beside
    the bicubic upscale's (Ledig et al. 2017, Table 2).

    Args:
        generator: maps (B, C, h, w) LR to (B, C, scale·h, scale·w) in [-1, 1]. Default:
            ``SRResNet(channels, scale)`` at the paper's size (64 wide, 16 blocks), residual
            over bicubic.
        discriminator: maps HR-sized images to logits (B,). Default:
            ``SRGANDiscriminator(channels, image_size)`` at the paper's size.
        channels, scale, image_size: image channels, upscaling factor and HR side, used only
            to build the default networks (paper: RGB, ×4, 96-px crops).
        objective: the adversarial loss (default :class:`NonSaturatingLoss`, Eq. 6).
        pixel_weight: weight of the pixel MSE (the paper's l_MSE, Eq. 4).
        adversarial_weight: weight of the generator's adversarial loss (1e-3, Eq. 3).
        perceptual: optional feature loss (Eq. 5): :class:`~gan_lightning.metrics.VGGLoss` (the
            paper's) or any :class:`PerceptualLoss`; nothing is downloaded.
        perceptual_weight: its weight.
        pretrain_steps: MSE-only generator iterations before the adversarial phase.
        optimization: per role the optimizer, schedule (stepped once per iteration, D's also
            during the warm-up) and clip norm (:class:`~gan_lightning.training.Optimization`);
            default Adam(2e-4, (0.5, 0.999)) (the paper uses Adam(1e-4, β1 = 0.9)) and no moving
            average of G, as the paper (with one, validation, strips and :meth:`translate` use it).
        num_fixed: held-out images in the strips of :meth:`sample_fixed`.
        metrics: what scores the held-out SR images (:class:`~gan_lightning.metrics.RestorationScores`
            or any :class:`~gan_lightning.metrics.TaskMetrics`; a list for several), logged as ``val/<name>``.
        compile: the training phases through ``torch.compile``
            (:class:`~gan_lightning.tasks.base.AdversarialTask`; off by default).
    """

    #: SampleGrid puts one strip (bicubic | SR | HR) per row.
    preview_nrow = 3

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        channels: int = 3,
        scale: int = 4,
        image_size: int = 96,
        objective: AdversarialObjective | None = None,
        pixel_weight: float = 1.0,
        adversarial_weight: float = 1e-3,
        perceptual: PerceptualLoss | None = None,
        perceptual_weight: float = 1.0,
        pretrain_steps: int = 0,
        optimization: Optimization = WITHOUT_EMA,
        num_fixed: int = 8,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        for name, value in (
            ("pixel_weight", pixel_weight),
            ("adversarial_weight", adversarial_weight),
            ("perceptual_weight", perceptual_weight),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        if pretrain_steps < 0:
            raise ValueError(f"pretrain_steps must be >= 0 (MSE-only generator iterations), got {pretrain_steps}.")
        if num_fixed < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}.")

        self.generator = generator if generator is not None else SRResNet(channels, scale)
        self.discriminator = discriminator if discriminator is not None else SRGANDiscriminator(channels, image_size)
        self.keep_average("generator")
        self.objective = objective if objective is not None else NonSaturatingLoss()
        self.perceptual = perceptual
        self.pixel_weight = pixel_weight
        self.adversarial_weight = adversarial_weight
        self.perceptual_weight = perceptual_weight
        self.pretrain_steps = pretrain_steps
        self.num_fixed = num_fixed
        # (LR, HR) held-out images of the strips, taken once: plain tensors, not state, since
        # they are re-read identically from the data after a resume.
        self._fixed: tuple[Tensor, Tensor] | None = None
        self._recent: tuple[Tensor, Tensor] | None = None

    # ------------------------------------------------------------------ declarations
    def role_modules(self) -> dict[str, list[nn.Module]]:
        return {"generator": [self.generator], "discriminator": [self.discriminator]}

    @property
    def pretraining(self) -> bool:
        """Whether this iteration is an MSE-only warm-up iteration."""
        return self.global_step < self.pretrain_steps

    # ------------------------------------------------------------------ the losses
    def content_terms(self, sr: Tensor, hr: Tensor) -> dict[str, Tensor]:
        """The weighted content losses of G: pixel MSE (Eq. 4) and the feature MSE (Eq. 5)."""
        if sr.shape != hr.shape:
            raise ValueError(
                f"The generator makes images of shape {tuple(sr.shape[1:])} but the HR images have shape "
                f"{tuple(hr.shape[1:])}: make the generator's scale/channels match the data's."
            )
        terms = {"pixel_loss": self.pixel_weight * F.mse_loss(sr.float(), hr.float())}
        if self.perceptual is not None:
            terms["perceptual_loss"] = self.perceptual_weight * self.perceptual(sr, hr)
        return terms

    def discriminator_main(self, hr: Tensor, sr: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """D's adversarial loss: HR is real, SR (detached) is fake."""
        real_logits = self.discriminator(hr)
        fake_logits = self.discriminator(sr)
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        return loss, {
            "d_loss": loss.detach(),
            "D(HR)": self.objective.readout(real_logits.detach()).mean(),
            "D(SR)": self.objective.readout(fake_logits.detach()).mean(),
        }

    def generator_main(self, hr: Tensor, sr: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """G's perceptual loss l_SR (Eq. 3): content terms + ``adversarial_weight`` · l_Gen."""
        terms = self.content_terms(sr, hr)
        real_logits = self.discriminator(hr) if self.objective.generator_needs_real else None
        adversarial = self.objective.generator_loss(self.discriminator(sr), real_logits)
        terms["adversarial_loss"] = self.adversarial_weight * adversarial
        loss = sum(terms.values())
        return loss, {"g_loss": loss.detach(), **{name: term.detach() for name, term in terms.items()}}

    def generator_warmup(self, hr: Tensor, sr: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """SRResNet-MSE (Sec. 3.2): the pixel MSE alone, D untouched."""
        loss = F.mse_loss(sr.float(), hr.float())
        return loss, {"g_loss": loss.detach(), "pixel_loss": loss.detach()}

    # ------------------------------------------------------------------ one iteration
    def training_step(self, batch: Any, batch_idx: int) -> dict[str, Tensor]:
        lr, hr, _ = unpack(batch)
        if self.pretraining:
            with self.training_role("generator"):
                loss, stats = self.generator_warmup(hr, self.generator(lr))
                self.step("generator", loss)
        else:
            sr = self.generator(lr)  # one forward: D's update sees it detached, G's loss through it

            with self.training_role("discriminator"):
                loss, stats = self.discriminator_main(hr, sr.detach())
                self.step("discriminator", loss)
                self.objective.after_discriminator_step(self.discriminator)

            with self.training_role("generator"):
                loss, g_stats = self.generator_main(hr, sr)
                self.step("generator", loss)
            stats.update(g_stats)

        self._recent = (lr.detach(), hr.detach())
        self.end_iteration(hr.shape[0], stats)
        self.log_progress(hr.shape[0], **{k: stats[k] for k in ("d_loss", "g_loss") if k in stats})
        return stats

    # ------------------------------------------------------------------ using the model
    def forward(self, lr: Tensor) -> Tensor:
        return self.sampling_generator(lr)

    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        """Super-resolve LR ``images`` (B, C, h, w) in [-1, 1] with the sampling generator, in
        eval mode, without gradients or touching the training RNG: the contract of
        ``gan-lightning translate`` (see :mod:`gan_lightning.commands.translate`)."""
        if direction is not None:
            raise ValueError(f"SRGAN translates one way (low → high resolution); got direction={direction!r}.")
        channels = getattr(self.generator, "channels", None)
        if images.dim() != 4 or (channels is not None and images.shape[1] != channels):
            raise ValueError(
                f"SRGAN expects images of shape (B, {channels or 'C'}, h, w), got {tuple(images.shape)}: "
                f"the model was trained on {channels}-channel images."
            )
        network = self.sampling_generator
        with looking_only(network):
            return network(images.to(self.device))

    def sample_fixed(self) -> Tensor:
        """Strips bicubic | SR | HR of a fixed held-out batch, interleaved (3·N images)."""
        lr, hr = self.fixed_batch()
        sr = self.translate(lr)
        bicubic = bicubic_upscale(lr, hr.shape[-1] // lr.shape[-1]).to(sr.dtype)
        return torch.stack([bicubic, sr, hr.to(sr.dtype)], dim=1).flatten(0, 1)

    def fixed_batch(self) -> tuple[Tensor, Tensor]:
        """The first ``num_fixed`` held-out (LR, HR) pairs, read once on a forked RNG
        (the latest training batch when there is no held-out data)."""
        if self._fixed is None:
            held_out = self._first_held_out()
            self._fixed = held_out if held_out is not None else self._recent
            if self._fixed is None:
                raise ValueError("SRGAN.sample_fixed needs held-out data (val_size > 0) or a training step first.")
        lr, hr = self._fixed
        return lr.to(self.device), hr.to(self.device)

    def _first_held_out(self) -> tuple[Tensor, Tensor] | None:
        datamodule = getattr(attached_trainer(self), "datamodule", None)
        if datamodule is None:
            return None
        lrs, hrs, count = [], [], 0
        with looking_only():
            loader = datamodule.val_dataloader()
            for batch in loader if not isinstance(loader, list) else []:
                lr, hr, _ = unpack(batch)
                lrs.append(lr)
                hrs.append(hr)
                count += lr.shape[0]
                if count >= self.num_fixed:
                    break
        if not lrs:
            return None
        n = self.num_fixed
        return torch.cat(lrs)[:n], torch.cat(hrs)[:n]

    # ------------------------------------------------------------------ held-out outputs
    def held_out_outputs(self, batch: Any, batch_idx: int) -> dict[str, Tensor]:
        """``{"output": SR}`` of the batch's LR images."""
        return {"output": self.translate(unpack(batch)[0]).float()}

    def predict_step(self, batch: Any, batch_idx: int) -> Tensor:
        return self.translate(unpack(batch)[0])
