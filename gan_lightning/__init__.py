"""gan-lightning: a PyTorch Lightning template for training and evaluating GANs."""

__version__ = "0.1.0"
