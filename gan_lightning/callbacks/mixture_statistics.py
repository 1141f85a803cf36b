"""The PacGAN protocol's statistics for a run on a 2D Gaussian mixture, logged at every
validation and printed at the end of fit.

A FID means nothing on 2D points; what the mode-collapse literature reports (Lin et al.
2018, Table 1) is modes covered, % high-quality samples and reverse KL on 2,500 samples.
Without this callback a ``lightning fit`` on the ring or grid ends without any of them.

The published numbers (PacGAN, VEEGAN) are of samples as drawn, so those come first and
always; a discriminator filter's statistics are a second, labelled block.
"""

from __future__ import annotations

from collections.abc import Callable

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.objectives.base import ProbabilisticObjective
from gan_lightning.sampling.filters import Rejection, discriminator_logits, seeded_rows
from gan_lightning.sampling.rejection import RejectionError, RejectionSamples

STATISTICS = ("modes_covered", "high_quality", "reverse_kl")


class MixtureStatistics(Callback):
    """Modes covered, high-quality fraction and reverse KL of ``num_samples`` fresh samples
    of the sampling (EMA) generator, unfiltered, as ``val/modes_covered``,
    ``val/high_quality`` and ``val/reverse_kl``; the final values are printed when fit ends.

    Args:
        num_samples: samples scored (2,500 in the protocol).
        threshold: a sample within ``threshold`` standard deviations of its nearest mode
            is high quality (3 in the protocol).
        rejection: if set, the statistics are *also* computed on samples filtered through
            D (:class:`gan_lightning.sampling.Rejection`: the hard threshold or DRS, from the
            raw generator by default), logged as ``val/filtered_<name>`` with the acceptance
            rate ``val/acceptance`` (the cost: 1/acceptance draws per kept sample). Needs a
            discriminator that scores single samples. When D rejects nearly every sample (a
            smoke run, an untrained G), there are no filtered statistics, ``val/rejected``
            is 0 and the printout says so.
        seed: seed of the latent noise, so successive validations score the same z (the
            filter's noise and coins use ``seed + 1``).
    """

    def __init__(
        self, num_samples: int = 2_500, threshold: float = 3.0, rejection: Rejection | None = None, seed: int = 0
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"MixtureStatistics num_samples must be >= 1, got {num_samples}.")
        self.num_samples = num_samples
        self.threshold = threshold
        self.rejection = rejection
        self.seed = seed
        self.final: dict[str, float] | None = None

    @staticmethod
    def _mixture(trainer: pl.Trainer) -> tuple[Tensor, float]:
        data = trainer.datamodule
        if not (hasattr(data, "modes") and hasattr(data, "std")):
            raise ValueError(
                f"MixtureStatistics needs a data module with `modes` and `std` (GaussianMixture2DDataModule); got "
                f"{type(data).__name__}. Remove the callback for other data."
            )
        return data.modes, data.std

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._mixture(trainer)  # wrong data fails before training, not after it
        if self.rejection is not None and self.rejection.needs_logistic_d:
            objective = pl_module.objective
            if not isinstance(objective, ProbabilisticObjective):
                raise ValueError(
                    f"DRS reads D's logit as log p_data/p_g, which holds for a logistic D, not for "
                    f"{type(objective).__name__}: set rejection fine_tune_steps > 0 (a logistic copy of D) or method: "
                    "threshold."
                )

    def _sampler(self, module: pl.LightningModule, use_ema: bool, seed: int) -> Callable[[int], Tensor]:
        noise = torch.Generator().manual_seed(seed)

        def sample(num: int) -> Tensor:
            return module.sample(num, use_ema=use_ema, generator=noise)

        return sample

    def _filtered(self, trainer: pl.Trainer, module: pl.LightningModule) -> RejectionSamples | RejectionError:
        """The filter's samples, or why there are none (D rejected nearly everything)."""
        rejection = self.rejection
        seed = self.seed + 1
        sample = self._sampler(module, rejection.generator == "ema", seed)
        real = trainer.datamodule.train_set.tensors[0]
        fake = self._sampler(module, rejection.generator == "ema", seed + 1)
        discriminator = rejection.discriminator(module.discriminator, seeded_rows(real, seed), fake)
        try:
            return rejection.filter(
                sample, discriminator_logits(discriminator), self.num_samples, real[: self.num_samples]
            )
        except RejectionError as error:
            return error

    def _statistics(self, trainer: pl.Trainer, samples: Tensor) -> dict[str, float]:
        modes, std = self._mixture(trainer)
        stats = mode_statistics(samples.detach().float().cpu(), modes, std, self.threshold)
        values = (float(stats.modes_covered), stats.high_quality_fraction, stats.reverse_kl)
        return dict(zip(STATISTICS, values, strict=True))

    def compute(self, trainer: pl.Trainer, module: pl.LightningModule) -> dict[str, float]:
        """The unfiltered statistics, then (if filtering) the filtered ones and the acceptance."""
        self._mixture(trainer)
        result = self._statistics(trainer, self._sampler(module, True, self.seed)(self.num_samples))
        if self.rejection is None:
            return result
        filtered = self._filtered(trainer, module)
        if isinstance(filtered, RejectionError):
            return result | {"acceptance": filtered.accepted / filtered.drawn, "rejected": 0.0}
        stats = self._statistics(trainer, filtered.samples)
        result |= {f"filtered_{name}": value for name, value in stats.items()}
        return result | {"acceptance": filtered.acceptance, "extra_draws": filtered.extra_draws, "rejected": 1.0}

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        values = self.compute(trainer, pl_module)
        pl_module.log_dict({f"val/{name}": value for name, value in values.items()}, batch_size=1)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.final = self.compute(trainer, pl_module)
        if trainer.is_global_zero:
            print("\n" + "\n".join(self.lines(trainer, pl_module)), flush=True)
            for logger in trainer.loggers:
                logger.log_metrics({f"final/{k}": v for k, v in self.final.items()}, step=trainer.global_step)

    def _block(self, modes: int, prefix: str = "") -> list[str]:
        final = self.final
        return [
            f"modes covered   {final[prefix + 'modes_covered']:g} / {modes}",
            f"high quality    {100 * final[prefix + 'high_quality']:.1f} %  (within {self.threshold:g} std of a mode)",
            f"reverse KL      {final[prefix + 'reverse_kl']:.4f}",
        ]

    def lines(self, trainer: pl.Trainer, module: pl.LightningModule) -> list[str]:
        """The printed block for :attr:`final`: unfiltered first (what published numbers
        are), then the filtered statistics, labelled, with their cost."""
        assert self.final is not None
        modes = len(self._mixture(trainer)[0])
        title = f"Mode statistics at iteration {trainer.global_step} (PacGAN protocol, {self.num_samples:,} samples)"
        generator = "EMA generator" if module.sampling_generator is not module.generator else "generator"
        lines = [title, "-" * len(title), f"unfiltered, as sampled ({generator}; what published numbers are):"]
        lines += self._block(modes)
        if self.rejection is None:
            return lines
        final = self.final
        if not final["rejected"]:
            note = f"kept only {100 * final['acceptance']:.2f} % of the samples drawn (a generator far from the data)"
            return [*lines, f"filtered        none: {self.rejection.describe()} {note}"]
        lines += [f"filtered through D (compare with filtered numbers only): {self.rejection.describe()}"]
        lines += self._block(modes, "filtered_")
        cost = f"(+{final['extra_draws']:.2f} draws per kept sample)"
        return [*lines, f"acceptance      kept {100 * final['acceptance']:.1f} % of the samples drawn {cost}"]
