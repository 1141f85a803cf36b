"""Shipped configuration: the defaults every run starts from, and config composition."""
