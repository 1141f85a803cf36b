"""Drawing from a trained model beyond plain sampling: discriminator rejection (the hard
threshold and DRS proper, Azadi et al. 2019), the truncation trick (BigGAN) and keeping the
class-conditional samples the GAN's own classifier reads as their label."""

from gan_lightning.sampling.class_filter import keep_classified
from gan_lightning.sampling.drs import acceptance_probability, burn_in, drs_logit, drs_sample, fine_tune
from gan_lightning.sampling.filters import Rejection, discriminator_logits
from gan_lightning.sampling.rejection import (
    RejectionError,
    RejectionSamples,
    check_quantile,
    real_score_threshold,
    rejection_sample,
)
from gan_lightning.sampling.truncation import check_threshold, truncated_normal, truncated_uniform

__all__ = [
    "Rejection",
    "RejectionError",
    "RejectionSamples",
    "acceptance_probability",
    "burn_in",
    "check_quantile",
    "check_threshold",
    "discriminator_logits",
    "drs_logit",
    "drs_sample",
    "fine_tune",
    "keep_classified",
    "real_score_threshold",
    "rejection_sample",
    "truncated_normal",
    "truncated_uniform",
]
