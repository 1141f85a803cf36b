"""The seams of :mod:`gan_lightning.seams`: one test per private Lightning/torch behaviour the
package relies on, and the public helpers that replaced the others.

A failure here after upgrading Lightning or torch names the seam and the installed versions:
fix the seam (its docstring says what it relies on), not the callers.
"""

from __future__ import annotations

import inspect
from typing import Any

import lightning
import lightning.pytorch as pl
import pytest
import torch
import torchmetrics
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import WandbLogger
from lightning.pytorch.plugins.precision import MixedPrecision
from lightning.pytorch.strategies import DDPStrategy, Strategy
from lightning.pytorch.utilities.exceptions import MisconfigurationException
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils.parametrizations import spectral_norm

from gan_lightning.seams import (
    CheckpointHyperparametersSeam,
    TopKCheckpointSeam,
    attached_trainer,
    ddp_ignored_names,
    ddp_options,
    last_saved_step,
    refresh_spectral_norm,
    retype_strategy,
    save_last_checkpoint,
    step_uncounted,
    wandb_init_arguments,
)
from gan_lightning.strategies import GANDDPStrategy, use_gan_ddp

VERSIONS = f"lightning {lightning.__version__}, torch {torch.__version__}, torchmetrics {torchmetrics.__version__}"


def broken(seam: str, what: str) -> str:
    return f"seam {seam} no longer holds under {VERSIONS}: {what}. See its docstring in gan_lightning/seams.py."


# ---------------------------------------------------------------------------- public helpers


def test_attached_trainer_is_none_until_a_trainer_holds_the_module(make_gan, make_trainer, tiny_data):
    model = make_gan()
    assert attached_trainer(model) is None
    trainer = make_trainer(max_steps=1)
    trainer.fit(model, tiny_data)
    assert attached_trainer(model) is trainer


def test_strategy_optimizer_step_is_what_lightning_optimizer_step_calls():
    """step_uncounted calls the strategy as LightningOptimizer.step does, minus its two
    counting hooks: same public signature, same unwrapped optimizer."""
    parameters = list(inspect.signature(Strategy.optimizer_step).parameters)
    assert parameters[:4] == ["self", "optimizer", "closure", "model"], broken("step_uncounted", str(parameters))
    source = inspect.getsource(pl.core.optimizer.LightningOptimizer.step)
    assert "self._strategy.optimizer_step(self._optimizer, closure" in source, broken(
        "step_uncounted", "LightningOptimizer.step no longer hands its optimizer straight to strategy.optimizer_step"
    )


def test_uncounted_steps_run_through_the_amp_scaler_and_global_step_counts_iterations(
    make_gan, make_trainer, tiny_data
):
    """fp16 with a GradScaler (on CPU, so it runs anywhere): every optimizer step of an
    iteration, counted or not, goes through the precision plugin (one ``scaler.update``
    each) and reaches ``on_before_optimizer_step``; ``global_step`` counts generator updates."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    updates: list[float] = []
    update = scaler.update
    scaler.update = lambda *args, **kwargs: (updates.append(scaler.get_scale()), update(*args, **kwargs))[1]
    hooks: list[int] = []

    class Recorder(pl.Callback):
        def on_before_optimizer_step(self, trainer: pl.Trainer, module: Any, optimizer: Any) -> None:
            hooks.append(id(optimizer))

    trainer = make_trainer(
        max_steps=2, plugins=[MixedPrecision("16-mixed", "cpu", scaler=scaler)], callbacks=[Recorder()]
    )
    trainer.fit(make_gan(n_critic=2, real_batches="reuse"), tiny_data)
    generator, discriminator = (id(optimizer) for optimizer in trainer.optimizers)
    assert trainer.global_step == 2
    assert hooks == [discriminator, discriminator, generator] * 2
    assert len(updates) == 6


def test_step_uncounted_is_not_counted_where_optimizer_step_is(make_gan, make_trainer, tiny_data):
    model = make_gan()
    counted: list[int] = []
    training_step = model.training_step

    def with_two_extra_steps(batch: Any, batch_idx: int) -> Any:
        optimizer, start = model.optimizer_of("discriminator"), model.trainer.global_step
        step_uncounted(model, optimizer)
        counted.append(model.trainer.global_step - start)
        optimizer.step()
        counted.append(model.trainer.global_step - start)
        return training_step(batch, batch_idx)

    model.training_step = with_two_extra_steps
    make_trainer(max_steps=2).fit(model, tiny_data)
    assert counted == [0, 1]


# ---------------------------------------------------------------------------- seams


def test_ddp_options_are_the_kwargs_for_distributed_data_parallel():
    assert ddp_options(DDPStrategy(find_unused_parameters=True, static_graph=True)) == {
        "find_unused_parameters": True,
        "static_graph": True,
    }, broken("ddp_options", "DDPStrategy._ddp_kwargs does not hold the DistributedDataParallel kwargs")
    assert ddp_options(DDPStrategy(start_method="spawn", process_group_backend="gloo")) == {}, broken(
        "ddp_options", "DDPStrategy's own arguments now land in _ddp_kwargs"
    )


def test_retype_strategy_keeps_what_lightning_built():
    """A DDPStrategy object (not a name) around a GAN becomes GANDDPStrategy in the task's
    setup, keeping the launcher and cluster environment the Trainer gave it; one process."""
    assert GANDDPStrategy.__init__ is DDPStrategy.__init__, "GANDDPStrategy must not keep state of its own"
    strategy = DDPStrategy(start_method="spawn", process_group_backend="gloo")
    trainer = pl.Trainer(accelerator="cpu", devices=1, strategy=strategy, logger=False)
    launcher, environment = strategy.launcher, strategy.cluster_environment
    use_gan_ddp(trainer)
    assert trainer.strategy is strategy and type(strategy) is GANDDPStrategy, broken(
        "retype_strategy", "the Trainer no longer holds the strategy object it was given"
    )
    assert strategy.launcher is launcher and strategy.cluster_environment is environment
    assert strategy.process_group_backend == "gloo"

    class Stateful(DDPStrategy):
        def __init__(self) -> None:
            super().__init__()
            self.extra = 1

    with pytest.raises(TypeError, match="keeps state of its own"):
        retype_strategy(DDPStrategy(), Stateful)


def test_ddp_ignored_names_read_what_torch_writes():
    module = nn.Module()
    module.register_buffer("own", torch.zeros(1))
    module.register_buffer("shared", torch.zeros(1))
    assert ddp_ignored_names(module) == frozenset()
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(module, ["own"])
    assert ddp_ignored_names(module) == {"own"}, broken(
        "ddp_ignored_names", "torch no longer marks ignored tensors in _ddp_params_and_buffers_to_ignore"
    )


def test_lightning_cli_calls_the_checkpoint_hyperparameter_merge_between_parsing_and_instantiation():
    assert inspect.signature(LightningCLI._parse_ckpt_path).parameters.keys() == {"self"}, broken(
        "CheckpointHyperparametersSeam", "LightningCLI._parse_ckpt_path changed its signature or vanished"
    )
    calls: list[str] = []

    class Recording(CheckpointHyperparametersSeam, LightningCLI):
        def parse_arguments(self, *args: Any) -> None:
            super().parse_arguments(*args)
            calls.append("parse_arguments")

        def merge_checkpoint_hyperparameters(self) -> None:
            calls.append("merge")

        def before_instantiate_classes(self) -> None:
            calls.append("before_instantiate_classes")

    Recording(BoringModel, args=["--trainer.logger=false", "--trainer.accelerator=cpu"], run=False)
    assert calls == ["parse_arguments", "merge", "before_instantiate_classes"], broken(
        "CheckpointHyperparametersSeam", f"LightningCLI.__init__ no longer calls _parse_ckpt_path there ({calls})"
    )


def test_checkpoint_callback_remembers_its_last_step_and_writes_last_on_demand(
    make_gan, make_trainer, tiny_data, tmp_path
):
    folder = tmp_path / "checkpoints"
    callback = ModelCheckpoint(dirpath=folder, every_n_train_steps=1, save_top_k=-1, save_last=True)
    trainer = make_trainer(max_steps=2, enable_checkpointing=True, callbacks=[callback])
    trainer.fit(make_gan(), tiny_data)
    assert last_saved_step(callback) == 2, broken("last_saved_step", "ModelCheckpoint._last_global_step_saved")
    (folder / "last.ckpt").unlink()
    save_last_checkpoint(callback, trainer)
    assert torch.load(folder / "last.ckpt", weights_only=True)["global_step"] == 2, broken(
        "save_last_checkpoint", "ModelCheckpoint._save_last_checkpoint no longer writes last.ckpt"
    )


def test_top_k_seam_is_where_lightning_rejects_an_unlogged_monitor(make_gan, make_trainer, tiny_data, tmp_path):
    def fit(callback: ModelCheckpoint) -> None:
        trainer = make_trainer(max_steps=2, val_check_interval=1, enable_checkpointing=True, callbacks=[callback])
        trainer.fit(make_gan(), tiny_data)  # a top-k save after each validation

    with pytest.raises(MisconfigurationException, match="not_logged"):
        fit(ModelCheckpoint(dirpath=tmp_path / "plain", monitor="not_logged", save_on_train_epoch_end=False))
    vetoed: list[bool] = []

    class Tolerant(TopKCheckpointSeam, ModelCheckpoint):
        def skips_top_k(self, monitor_candidates: dict[str, Any]) -> bool:
            vetoed.append(self.monitor not in monitor_candidates)
            return vetoed[-1]

    fit(Tolerant(dirpath=tmp_path / "tolerant", monitor="not_logged", save_on_train_epoch_end=False))
    assert vetoed == [True, True], broken("TopKCheckpointSeam", "ModelCheckpoint._save_topk_checkpoint is not called")


def test_refresh_spectral_norm_estimates_the_new_weights_norm():
    torch.manual_seed(0)
    layer = spectral_norm(nn.Linear(6, 6))
    (parametrization,) = layer.parametrizations.weight
    new_weight = torch.randn(6, 6) * 10
    layer.parametrizations.weight.original.data.copy_(new_weight)
    layer.eval()  # no power iteration on access: the stored singular vectors decide
    stale = torch.linalg.matrix_norm(layer.weight, ord=2)
    assert refresh_spectral_norm(parametrization, new_weight, 50), broken(
        "refresh_spectral_norm", "torch's spectral norm parametrization has no _power_method"
    )
    assert abs(stale.item() - 1) > 1e-2  # the test means something: stale vectors misjudge the norm
    torch.testing.assert_close(torch.linalg.matrix_norm(layer.weight, ord=2), torch.tensor(1.0), atol=1e-4, rtol=0)
    assert not refresh_spectral_norm(nn.Identity(), new_weight, 1)


def test_inception_forward_still_returns_one_layer_so_the_private_pass_is_needed():
    """For inception_features_and_logits. Without the weights offline the network cannot be
    built here: its signature, and the public forward still keeping only the first layer."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    parameters = list(inspect.signature(NoTrainInceptionV3._torch_fidelity_forward).parameters)
    assert parameters == ["self", "x"], broken("inception_features_and_logits", f"signature is now {parameters}")
    assert "out[0]" in inspect.getsource(NoTrainInceptionV3.forward), (
        f"torchmetrics {torchmetrics.__version__}: NoTrainInceptionV3.forward may return every layer now; "
        "inception_features_and_logits could use it"
    )


def test_wandb_init_arguments_are_the_dict_lightning_passes_to_wandb_init(tmp_path):
    logger = WandbLogger(project="seams", save_dir=str(tmp_path), offline=True)
    arguments = wandb_init_arguments(logger)
    assert arguments is wandb_init_arguments(logger) and arguments["project"] == "seams", broken(
        "wandb_init_arguments", "WandbLogger._wandb_init no longer holds wandb.init's arguments"
    )
    assert "anonymous" in arguments
