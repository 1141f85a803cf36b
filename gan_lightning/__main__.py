"""``python -m gan_lightning fit --config configs/wgan.yaml``."""

from gan_lightning.cli import main

main()
