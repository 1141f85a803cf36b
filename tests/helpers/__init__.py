"""Test support that is not a test: fake data writers, the weights lock, DDP recorders, W&B record readers."""
