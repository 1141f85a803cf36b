"""Commands that use a trained checkpoint without training: ``evaluate``, ``sample``, ``translate``, ``export``, ``cas``.

``gan-lightning evaluate CKPT``, ``gan-lightning sample CKPT --out DIR``, ``gan-lightning cas --synthetic DIR``,
``gan-lightning translate CKPT --input DIR --out DIR`` and ``gan-lightning export CKPT --out FILE`` (dispatched by
:func:`gan_lightning.cli.main` before LightningCLI sees the arguments).
"""

from __future__ import annotations

from gan_lightning.errors import CommandLineError

COMMANDS = ("evaluate", "sample", "translate", "export", "cas")


def run(argv: list[str]) -> int:
    """Run ``argv[0]`` (one of :data:`COMMANDS`) with the remaining arguments."""
    name, rest = argv[0], argv[1:]
    if name == "evaluate":
        from gan_lightning.commands.evaluate import main
    elif name == "sample":
        from gan_lightning.commands.sample import main
    elif name == "translate":
        from gan_lightning.commands.translate import main
    elif name == "export":  # the sampling network as TorchScript, ONNX or safetensors
        from gan_lightning.commands.export import main
    elif name == "cas":  # synthetic data for a classifier (docs/augmentation.md)
        from gan_lightning.commands.cas import main
    else:
        raise CommandLineError(f"Unknown command {name!r}: use one of {', '.join(COMMANDS)}.")
    return main(rest)
