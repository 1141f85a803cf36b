"""Compiled training phases: the same run as eager (within float tolerance), the same
checkpoints with compile on or off, exact resume, bf16, and the double-backward penalties
through the eager networks.

``aot_eager`` (aot_autograd without code generation) keeps these tests fast: it is the part of
``torch.compile`` that refuses a double backward, so a penalty that reached a compiled graph
would fail here as it does with inductor. One slow test runs inductor itself.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor, nn

from gan_lightning.cli import GANLightningCLI
from gan_lightning.data import Digits8x8DataModule
from gan_lightning.networks import DCGANDiscriminator
from gan_lightning.objectives import WassersteinLoss
from gan_lightning.regularizers import GradientPenalty, eager_networks
from gan_lightning.tasks import GAN
from gan_lightning.training import compile_backend
from tests.conftest import FIXTURES, REPO_ROOT, TinyData, assert_same_state, run_cli, tiny_gan, tiny_trainer

FAST = "aot_eager"


class CompileProbe(nn.Module):
    """A network that records, call by call, whether it ran inside a compiled graph."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        self.compiled_calls: list[bool] = []

    def forward(self, x: Tensor) -> Tensor:
        self.compiled_calls.append(torch.compiler.is_compiling())
        return self.network(x)


def wgan_gp(compile: bool | str = False, penalty: bool = True, **overrides) -> GAN:
    torch.manual_seed(0)
    regularizers = [GradientPenalty(10.0)] if penalty else []
    return tiny_gan(
        objective=WassersteinLoss(),
        regularizers=regularizers,
        n_critic=2,
        real_batches="reuse",
        compile=compile,
        **overrides,
    )


def fitted(model: GAN, folder: Path, steps: int = 3, **trainer_options) -> GAN:
    torch.manual_seed(1)
    tiny_trainer(folder, max_steps=steps, limit_val_batches=0, **trainer_options).fit(model, TinyData())
    return model


def test_the_switch_names_a_backend_or_none():
    assert compile_backend(True) == "inductor"
    assert compile_backend(False) is None
    assert compile_backend(FAST) == FAST
    with pytest.raises(ValueError, match="name of a torch"):
        compile_backend("fastest")


def spectral_critic() -> nn.Module:
    return DCGANDiscriminator(image_size=8, channels=1, base_width=4, norm="spectral")


@pytest.mark.parametrize(
    "penalty, critic",
    [(True, None), (False, None), (False, spectral_critic)],
    ids=["wgan-gp", "no-penalty", "spectral-norm"],
)
def test_a_compiled_run_equals_the_eager_one(tmp_path: Path, penalty: bool, critic):
    """Spectral norm's power iteration updates buffers inside the compiled forward: they must
    move as in eager mode."""
    networks = (lambda: {"discriminator": critic()}) if critic else dict
    torch.manual_seed(0)
    eager = fitted(wgan_gp(penalty=penalty, **networks()), tmp_path / "eager")
    torch.manual_seed(0)
    compiled = fitted(wgan_gp(FAST, penalty=penalty, **networks()), tmp_path / "compiled")
    for key, value in eager.state_dict().items():  # the EMA too: its copy stays eager
        torch.testing.assert_close(compiled.state_dict()[key], value, rtol=1e-4, atol=1e-5, msg=key)


def test_the_gradient_penalty_runs_the_eager_forward_and_the_loss_the_compiled_one(tmp_path: Path):
    model = wgan_gp(FAST)
    model.discriminator = CompileProbe(model.discriminator)
    fitted(model, tmp_path, steps=1)
    # per critic update: D(real), D(fake) compiled, then D(x̂) of the penalty eager; then G's update
    assert model.discriminator.compiled_calls == [True, True, False] * 2 + [True]


def test_parameters_and_state_dict_keys_are_the_eager_networks(tmp_path: Path):
    model = wgan_gp(FAST)
    parameters = [id(p) for p in model.parameters()]
    keys = list(model.state_dict())
    fitted(model, tmp_path, steps=1)
    assert [id(p) for p in model.parameters()] == parameters
    assert list(model.state_dict()) == keys and not any("_orig_mod" in key for key in keys)


@pytest.mark.parametrize("saved, loaded", [(FAST, False), (False, FAST)], ids=["on-then-off", "off-then-on"])
def test_a_checkpoint_resumes_with_compile_switched(tmp_path: Path, saved, loaded):
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=2, save_top_k=-1)
    fitted(wgan_gp(saved), tmp_path / "first", steps=2, callbacks=[checkpoints])
    path = tmp_path / "ckpt" / "epoch=0-step=2.ckpt"
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    assert checkpoint["hyper_parameters"]["compile"] == saved
    resumed = wgan_gp(loaded)
    resumed.load_state_dict(checkpoint["state_dict"], strict=True)  # the same keys, compiled or not
    tiny_trainer(tmp_path / "second", max_steps=3, limit_val_batches=0).fit(resumed, TinyData(), ckpt_path=path)
    assert resumed.global_step == 3


def test_a_compiled_run_resumes_exactly(tmp_path: Path):
    def run(folder: Path, ckpt_path: Path | None = None) -> GAN:
        pl.seed_everything(0)
        model, data = wgan_gp(FAST), Digits8x8DataModule(batch_size=16, val_size=1797 - 64)  # 4 batches an epoch
        checkpoints = ModelCheckpoint(dirpath=folder, filename="{step}", every_n_train_steps=3, save_top_k=-1)
        tiny_trainer(folder, 5, [checkpoints], limit_val_batches=0).fit(model, datamodule=data, ckpt_path=ckpt_path)
        return model

    whole = run(tmp_path / "whole")
    resumed = run(tmp_path / "resumed", ckpt_path=tmp_path / "whole" / "step=3.ckpt")  # crosses an epoch's end
    assert_same_state(resumed.state_dict(), whole.state_dict(), "model")


def test_bf16_autocast_with_compile_trains(tmp_path: Path):
    model = fitted(wgan_gp(FAST), tmp_path, steps=2, precision="bf16-mixed")
    assert model.global_step == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_the_command_line_switch_reaches_the_task():
    cli = GANLightningCLI(
        args=["--config", str(REPO_ROOT / "configs" / "wgan.yaml"), "--model.init_args.compile=true"], run=False
    )
    assert cli.model.compile_backend == "inductor" and cli.model.hparams["compile"] is True


def test_eager_networks_leaves_an_uncompiled_network_alone():
    network = nn.Linear(3, 1)
    x = torch.randn(4, 3)
    with eager_networks():
        inside = network(x)
    torch.testing.assert_close(inside, network(x), rtol=0, atol=0)


@pytest.mark.slow
def test_inductor_matches_eager_with_a_gradient_penalty(tmp_path: Path):
    """torch.compile's default backend, code generation included (tens of seconds on a busy CPU)."""
    eager = fitted(wgan_gp(), tmp_path / "eager", steps=2)
    compiled = fitted(wgan_gp(True), tmp_path / "compiled", steps=2)
    for key, value in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[key], value, rtol=1e-4, atol=1e-5, msg=key)


@pytest.mark.slow
def test_two_process_ddp_with_compile_equals_eager_ddp(tmp_path: Path):
    """Two CPU processes (gloo) through the command line, WGAN-GP: the ranks agree and end where
    eager DDP ends."""
    penalty = "--model.init_args.regularizers=[{class_path: gan_lightning.regularizers.GradientPenalty}]"
    final = {}
    for compile in ("false", FAST):
        folder = tmp_path / compile
        args = ["fit", "--config", str(FIXTURES / "ddp_tiny.yaml"), f"--trainer.default_root_dir={folder}", penalty]
        args += [
            f"--model.init_args.compile={compile}",
            "--trainer.callbacks+=tests.helpers.ddp_recorder.RecordTraining",
        ]
        result = run_cli([*args, f"--trainer.callbacks.directory={folder / 'records'}"], REPO_ROOT)
        assert result.returncode == 0, result.stderr[-3000:]
        ranks = [torch.load(folder / "records" / f"rank{rank}.pt")["final"] for rank in (0, 1)]
        assert_same_state(ranks[0], ranks[1], "rank 1")
        final[compile] = ranks[0]
    for key, value in final["false"].items():
        torch.testing.assert_close(final[FAST][key], value, rtol=1e-5, atol=1e-6, msg=key)
