"""Drawing from a trained model beyond plain sampling: discriminator rejection sampling."""
