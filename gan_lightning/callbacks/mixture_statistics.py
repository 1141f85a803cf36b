"""The PacGAN protocol's statistics for a run on a 2D Gaussian mixture, logged at every
validation and printed at the end of fit.

A FID means nothing on 2D points; what the mode-collapse literature reports (Lin et al.
2018, Table 1) is modes covered, % high-quality samples and reverse KL on 2,500 samples.
Without this callback a ``lightning fit`` on the ring or grid ends without any of them.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from torch import Tensor

from gan_lightning.metrics.toy2d import mode_statistics
from gan_lightning.sampling.rejection import RejectionError, check_quantile, real_score_threshold, rejection_sample
from gan_lightning.training.looking import looking_only


class MixtureStatistics(Callback):
    """Modes covered, high-quality fraction and reverse KL of ``num_samples`` fresh samples
    of the sampling (EMA) generator, as ``val/modes_covered``, ``val/high_quality`` and
    ``val/reverse_kl``; the final values are printed when fit ends.

    Args:
        num_samples: samples scored (2,500 in the protocol).
        threshold: a sample within ``threshold`` standard deviations of its nearest mode
            is high quality (3 in the protocol).
        rejection_quantile: if set, samples go through discriminator rejection
            (:mod:`gan_lightning.sampling.rejection`): a sample is kept when D scores it at
            least as high as this quantile of D's scores on real training points. The
            acceptance rate is logged as ``val/acceptance`` (the cost: 1/acceptance draws
            per kept sample). Needs a discriminator that scores single samples. When D
            rejects nearly every sample (a smoke run, an untrained G), the statistics are of
            samples drawn without rejection, ``val/rejected`` is 0 and the printout says so.
        seed: seed of the latent noise, so successive validations score the same z.
    """

    def __init__(
        self, num_samples: int = 2_500, threshold: float = 3.0, rejection_quantile: float | None = None, seed: int = 0
    ) -> None:
        if num_samples < 1:
            raise ValueError(f"MixtureStatistics num_samples must be >= 1, got {num_samples}.")
        if rejection_quantile is not None:
            check_quantile(rejection_quantile)
        self.num_samples = num_samples
        self.threshold = threshold
        self.rejection_quantile = rejection_quantile
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

    def _samples(self, trainer: pl.Trainer, module: pl.LightningModule) -> tuple[Tensor, float, bool]:
        """``(samples, acceptance, rejected)``: ``rejected`` is False when no rejection was
        asked for, or when D rejected nearly everything (an untrained run) and the samples
        are drawn without it."""
        noise = torch.Generator().manual_seed(self.seed)

        def sample(num: int) -> Tensor:
            return module.sample(num, generator=noise)

        if self.rejection_quantile is None:
            return sample(self.num_samples), 1.0, False

        def score(points: Tensor) -> Tensor:
            with looking_only(module.discriminator):
                return module.score(points.to(module.device), None)

        real = trainer.datamodule.train_set.tensors[0][: self.num_samples]
        threshold = real_score_threshold(score(real), self.rejection_quantile)
        try:
            result = rejection_sample(sample, score, self.num_samples, threshold)
        except RejectionError as error:  # a short or failed run: report what G draws, and say so
            return sample(self.num_samples), error.accepted / error.drawn, False
        return result.samples, result.acceptance, True

    def compute(self, trainer: pl.Trainer, module: pl.LightningModule) -> dict[str, float]:
        """The statistics (and the rejection acceptance rate, if rejecting) now."""
        modes, std = self._mixture(trainer)
        samples, acceptance, rejected = self._samples(trainer, module)
        stats = mode_statistics(samples.detach().float().cpu(), modes, std, self.threshold)
        result = {
            "modes_covered": float(stats.modes_covered),
            "high_quality": stats.high_quality_fraction,
            "reverse_kl": stats.reverse_kl,
        }
        if self.rejection_quantile is not None:
            result["acceptance"] = acceptance
            result["rejected"] = float(rejected)
        return result

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        values = self.compute(trainer, pl_module)
        pl_module.log_dict({f"val/{name}": value for name, value in values.items()}, batch_size=1)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.final = self.compute(trainer, pl_module)
        if trainer.is_global_zero:
            print("\n" + "\n".join(self.lines(trainer)), flush=True)
            for logger in trainer.loggers:
                logger.log_metrics({f"final/{k}": v for k, v in self.final.items()}, step=trainer.global_step)

    def lines(self, trainer: pl.Trainer) -> list[str]:
        """The printed block for :attr:`final`."""
        assert self.final is not None
        modes = len(self._mixture(trainer)[0])
        title = f"Mode statistics at iteration {trainer.global_step} (PacGAN protocol, {self.num_samples:,} samples)"
        lines = [
            title,
            "-" * len(title),
            f"modes covered   {self.final['modes_covered']:g} / {modes}",
            f"high quality    {100 * self.final['high_quality']:.1f} %  (within {self.threshold:g} std of a mode)",
            f"reverse KL      {self.final['reverse_kl']:.4f}",
        ]
        if self.final.get("rejected"):
            lines.append(
                f"rejection       D-threshold at the real data's {100 * self.rejection_quantile:g} % quantile: "
                f"kept {100 * self.final['acceptance']:.1f} % of the samples drawn"
            )
        elif "acceptance" in self.final:
            lines.append(
                f"rejection       off: D kept only {100 * self.final['acceptance']:.2f} % of the samples drawn (a "
                "generator far from the data); the statistics above are of samples drawn without rejection"
            )
        return lines
