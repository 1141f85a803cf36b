"""What every paired image-to-image task shares, so a paper's task file is its losses and its step.

Batches are ``{"source", "target"}`` in [-1, 1] (plus whatever else a data module adds, e.g.
``"label"``). :class:`PairedTranslation` owns the parts that are not the paper's idea:

* the fixed held-out pairs shown as strips (source | output | target), taken from the data
  module's ``val_set`` at set-up, so grids show the same pairs all run;
* :meth:`translate` — the contract of ``gan-lightning translate`` and of held-out metrics —
  running G as :attr:`sample_mode` says, without touching the training RNG or G's buffers;
* :meth:`held_out_outputs` (``{"output": G(source)}``) for the metrics passed in
  (e.g. :class:`~gan_lightning.metrics.TranslationScores`), and ``predict_step``.

A subclass assigns ``self.generator`` and ``self.discriminator`` and writes ``training_step``
(pix2pix: :class:`~gan_lightning.tasks.Pix2Pix`; docs/extending.md adds a perceptual term).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset, default_collate

from gan_lightning.metrics.base import TaskMetrics
from gan_lightning.tasks.base import AdversarialTask
from gan_lightning.training.looking import looking_only
from gan_lightning.training.optimization import WITHOUT_EMA, Optimization

PairBatch = Mapping[str, Tensor]
SampleMode = Literal["train", "dropout", "eval"]


def gray_or_rgb(images: Tensor, channels: int) -> Tensor:
    """Grey images repeated to RGB, RGB averaged to grey: strips of a 1 → 3 channel task line up."""
    if images.shape[1] == channels:
        return images
    if images.shape[1] == 1:
        return images.expand(-1, channels, -1, -1)
    if channels == 1:
        return images.mean(dim=1, keepdim=True)
    raise ValueError(f"Cannot show {images.shape[1]}-channel images beside {channels}-channel ones.")


def first_items(dataset: Dataset, count: int) -> dict[str, Tensor]:
    """The first ``count`` items of a dataset of dicts, collated (no randomness drawn)."""
    return default_collate([dataset[i] for i in range(min(count, len(dataset)))])  # type: ignore[arg-type]


class PairedTranslation(AdversarialTask):
    """Base of paired image-to-image tasks: source → target, judged with the source.

    Args:
        optimization: per role the optimizer, schedule and clip norm
            (:class:`~gan_lightning.training.Optimization`); default Adam(2e-4, (0.5, 0.999)), no EMA.
        metrics: held-out scores of the translations (:class:`~gan_lightning.metrics.TaskMetrics`).
        sample_mode: how G runs whenever the task only looks at it (strips, validation,
            :meth:`translate`). ``train``: as in training — dropout on, batch norm from the batch
            (pix2pix's inference, Isola et al. 2017 Sec. 3.3). ``dropout``: dropout on, running
            statistics. ``eval``: deterministic. Dropout draws are seeded from ``sample_seed``.
        num_fixed: held-out pairs shown as strips, the first ones of the held-out set.
        sample_seed: seed of the dropout draws when sampling.
        compile: the training phases through ``torch.compile`` (off by default).
    """

    preview_nrow: ClassVar[int | None] = 3  # one strip per row: source | output | target

    def __init__(
        self,
        optimization: Optimization = WITHOUT_EMA,
        metrics: TaskMetrics | list[TaskMetrics] | None = None,
        sample_mode: SampleMode = "train",
        num_fixed: int = 8,
        sample_seed: int = 0,
        compile: bool | str = False,
    ) -> None:
        super().__init__(optimization, metrics, compile)
        if sample_mode not in ("train", "dropout", "eval"):
            raise ValueError(f"sample_mode must be 'train', 'dropout' or 'eval', got {sample_mode!r}.")
        if num_fixed < 1:
            raise ValueError(f"num_fixed must be >= 1, got {num_fixed}.")
        self.sample_mode = sample_mode
        self.num_fixed = num_fixed
        self.sample_seed = sample_seed
        # Taken from the data at set-up (deterministic), so they are not checkpoint state.
        self.register_buffer("fixed_source", torch.zeros(0), persistent=False)
        self.register_buffer("fixed_target", torch.zeros(0), persistent=False)

    def role_modules(self) -> dict[str, list[nn.Module]]:
        return {"generator": [self.generator], "discriminator": [self.discriminator]}

    def setup(self, stage: str) -> None:
        """Besides the base's set-up: the fixed strip pairs, the first held-out pairs."""
        super().setup(stage)
        held_out = getattr(self.trainer.datamodule, "val_set", None) if self.trainer.datamodule else None
        if held_out is not None and len(held_out) and not self.fixed_source.numel():
            self.remember_fixed_pairs(first_items(held_out, self.num_fixed))

    def remember_fixed_pairs(self, batch: PairBatch) -> None:
        """Keep the first ``num_fixed`` pairs of ``batch`` for strips."""
        self.fixed_source = batch["source"][: self.num_fixed].detach().to(self.device)
        self.fixed_target = batch["target"][: self.num_fixed].detach().to(self.device)

    def check_output(self, fake: Tensor, target: Tensor) -> None:
        """A generator whose output does not fit the targets fails with the fix named."""
        if fake.shape != target.shape:
            raise ValueError(
                f"The generator makes images of shape {tuple(fake.shape[1:])} but the targets have shape "
                f"{tuple(target.shape[1:])}: set the generator's out_channels/image_size to the data's."
            )

    # ------------------------------------------------------------------ capabilities
    def translate(
        self, images: Tensor, direction: str | None = None, seed: int | None = None, use_ema: bool = True
    ) -> Tensor:
        """Outputs for source ``images`` as :attr:`sample_mode` says, without gradients, without
        touching the training RNG or G's buffers; dropout draws seeded with ``seed`` (default
        ``sample_seed``)."""
        if direction is not None:
            raise ValueError(
                f"{type(self).__name__} translates one way (source → target); got direction={direction!r}."
            )
        network = self.sampling_generator if use_ema else self.generator
        expected = getattr(network, "in_channels", None)
        if images.dim() != 4 or (expected is not None and images.shape[1] != expected):
            raise ValueError(
                f"{type(self).__name__} expects sources of shape (B, {expected or 'C'}, H, W), got "
                f"{tuple(images.shape)}: the model was trained on {expected}-channel sources."
            )
        with looking_only(network, train_mode=self.sample_mode == "train"):
            if self.sample_mode == "dropout":
                for module in network.modules():
                    if isinstance(module, nn.Dropout):
                        module.train()
            torch.manual_seed(self.sample_seed if seed is None else seed)
            return network(images.to(self.device))

    def sample_fixed(self) -> Tensor:
        """Strips of the fixed held-out pairs, interleaved source, output, target (3N images)."""
        if not self.fixed_source.numel():
            raise ValueError(
                f"{type(self).__name__} has no fixed held-out pairs yet: they are taken from the datamodule's "
                "val_set at set-up. Fit or validate with a datamodule that has held-out pairs."
            )
        source, target = self.fixed_source, self.fixed_target
        output = self.translate(source)
        strips = torch.stack([gray_or_rgb(source, target.shape[1]), output.to(target.dtype), target], dim=1)
        return strips.flatten(0, 1)

    def forward(self, source: Tensor) -> Tensor:
        return self.sampling_generator(source)

    # ------------------------------------------------------------------ held-out data
    def held_out_outputs(self, batch: PairBatch, batch_idx: int) -> dict[str, Tensor]:
        """G's outputs for the batch's sources, dropout seeded per batch: the scores repeat."""
        if batch_idx == 0 and not self.fixed_source.numel():
            self.remember_fixed_pairs(batch)  # no datamodule with a val_set: the first held-out batch
        return {"output": self.translate(batch["source"], seed=self.sample_seed + batch_idx).float()}

    def predict_step(self, batch: PairBatch, batch_idx: int) -> Tensor:
        """Translations of each batch's sources."""
        return self.translate(batch["source"], seed=self.sample_seed + batch_idx)

    def training_step(self, batch: PairBatch, batch_idx: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must write its training_step.")
