"""The single-process reference for data-parallel tests: train on what every rank drew,
side by side, and compare with the ranks' final weights."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, Dataset


class Replayed(Dataset):
    def __init__(self, batches: list[torch.Tensor]) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.batches[index], torch.zeros(len(self.batches[index]), dtype=torch.long)


def train_on_the_combined_batch(
    model: pl.LightningModule, records: list[dict], max_steps: int, folder: Path
) -> dict[str, torch.Tensor]:
    """Train ``model`` (a GAN built as the ranks' was) from rank 0's initial weights on every
    rank's real batches and noise concatenated in rank order: critic update k sees each rank's
    k-th critic batch (a loader batch holds ``n_critic`` of them), each noise draw the ranks'
    draws side by side. Mean losses over equal per-rank batches make the averaged gradient the
    gradient on the combined batch, so plain SGD must land on the ranks' weights."""
    model.load_state_dict(records[0]["initial"])
    replay = [torch.cat(draws) for draws in zip(*(record["latent"] for record in records), strict=True)]
    model.sample_latent = lambda num: replay.pop(0)
    chunks = model.n_critic

    def side_by_side(*batches: torch.Tensor) -> torch.Tensor:
        per_critic_step = zip(*(batch.chunk(chunks) for batch in batches), strict=True)
        return torch.cat([torch.cat(parts) for parts in per_critic_step])

    combined = [side_by_side(*batches) for batches in zip(*(record["real"] for record in records), strict=True)]

    class Replay(pl.LightningDataModule):
        batches_per_step = 1  # the GAN sets it to n_critic: its batches are then split into critic batches

        def train_dataloader(self) -> DataLoader:
            return DataLoader(Replayed(combined), batch_size=None)

    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        default_root_dir=folder,
    )
    trainer.fit(model, datamodule=Replay())
    assert not replay, "the single process drew noise a different number of times than the ranks"
    return model.state_dict()
