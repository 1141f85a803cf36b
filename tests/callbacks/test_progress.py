"""IterationProgressBar counts iterations (generator updates) up to max_steps across epochs."""

from __future__ import annotations

from gan_lightning.callbacks import IterationProgressBar


class Recorded(IterationProgressBar):
    """Keeps the bar's last count and total, which on_train_end would discard."""

    def on_train_end(self, trainer, pl_module) -> None:
        self.final = (self.bar.n, self.bar.total)
        super().on_train_end(trainer, pl_module)


def test_the_bar_spans_max_steps_over_several_epochs(make_gan, make_trainer, tiny_data):
    bar = Recorded("tiny")
    batches_per_epoch = len(tiny_data.train_dataloader())
    trainer = make_trainer(max_steps=batches_per_epoch + 3, callbacks=[bar])
    trainer.fit(make_gan(), datamodule=tiny_data)
    assert trainer.current_epoch >= 1  # the run crossed an epoch boundary, the bar did not restart
    assert bar.final == (batches_per_epoch + 3, batches_per_epoch + 3)
    assert bar.bar is None  # closed
