"""DDP with two CPU processes (gloo) through the real command line.

One run checks everything that needs processes: `--trainer.strategy=ddp` builds
GANDDPStrategy, the run finishes with `global_step == max_steps` (generator updates, not
double counted), the ranks end with identical weights, draw different noise and different
real samples, and the result equals one process training on both ranks' batches. A second
run with BatchNorm networks checks the buffers: each rank computes batch statistics from its
own batch, so GANDDPStrategy broadcasts rank 0's after every training step.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_lightning.cli import GANLightningCLI
from tests.conftest import FIXTURES, REPO_ROOT, child_environment
from tests.helpers.one_process import train_on_the_combined_batch

TINY_DDP = str(FIXTURES / "ddp_tiny.yaml")


def run_cli(folder: Path, records: str, *extra: str, config: str = TINY_DDP) -> dict[int, dict]:
    env = child_environment()
    command = [
        sys.executable,
        "-m",
        "gan_lightning",
        "fit",
        "--config",
        config,
        f"--trainer.default_root_dir={folder}",
        "--trainer.callbacks+=tests.helpers.ddp_recorder.RecordTraining",
        f"--trainer.callbacks.directory={folder / records}",
        *extra,
    ]
    result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-4000:]
    return {rank: torch.load(folder / records / f"rank{rank}.pt") for rank in (0, 1)}


@pytest.fixture(scope="module")
def ddp_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ddp")


@pytest.fixture(scope="module")
def ddp_run(ddp_folder: Path) -> dict[int, dict]:
    """Two iterations on two processes, with a checkpoint after each."""
    return run_cli(
        ddp_folder,
        "records",
        "--checkpoint.every_n_train_steps=1",
        "--checkpoint.save_top_k=-1",
        f"--checkpoint.dirpath={ddp_folder / 'checkpoints'}",
    )


@pytest.mark.slow
def test_plain_ddp_string_runs_gan_ddp_and_counts_generator_updates(ddp_run):
    for record in ddp_run.values():
        assert record["strategy"] == "GANDDPStrategy"
        assert record["global_step"] == 2  # max_steps: 2 generator updates, each after 2 critic updates


@pytest.mark.slow
def test_ranks_end_with_identical_weights(ddp_run):
    first, second = ddp_run[0], ddp_run[1]
    for name, tensor in first["initial"].items():
        assert torch.equal(tensor, second["initial"][name]), f"{name} not broadcast from rank 0"
    for name, tensor in first["final"].items():
        assert torch.equal(tensor, second["final"][name]), f"{name} differs between ranks after training"
    assert any(not torch.equal(first["initial"][k], first["final"][k]) for k in first["final"])


@pytest.mark.slow
def test_ranks_draw_different_noise_and_different_samples(ddp_run):
    for z0, z1 in zip(ddp_run[0]["latent"], ddp_run[1]["latent"], strict=True):
        assert not torch.equal(z0, z1)
    for x0, x1 in zip(ddp_run[0]["real"], ddp_run[1]["real"], strict=True):
        assert not torch.equal(x0, x1)


@pytest.mark.slow
def test_two_ranks_equal_one_process_on_the_combined_batch(ddp_run, tmp_path: Path):
    """Mean losses over equal per-rank batches: averaging the ranks' gradients is the
    gradient on the concatenated batch, so SGD must land on the same weights. Each rank's
    loader batch holds its n_critic fresh critic batches; critic update k of the single
    process sees rank 0's k-th batch followed by rank 1's."""
    cli = GANLightningCLI(args=["--config", TINY_DDP, "--trainer.devices=1", "--trainer.strategy=auto"], run=False)
    final = train_on_the_combined_batch(cli.model, [ddp_run[0], ddp_run[1]], 2, tmp_path)
    for name, tensor in final.items():
        torch.testing.assert_close(tensor, ddp_run[0]["final"][name], rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.slow
def test_checkpoint_holds_every_ranks_random_state(ddp_run, ddp_folder: Path):
    checkpoint = torch.load(ddp_folder / "records" / "final.ckpt", weights_only=True)
    (state,) = [value for key, value in checkpoint["callbacks"].items() if "TrainingRandomState" in key]
    first, second = state["per_rank"]
    assert not torch.equal(first["torch"], second["torch"])


@pytest.mark.slow
def test_resumed_ddp_run_equals_the_uninterrupted_one(ddp_run, ddp_folder: Path):
    """Kill after iteration 1 (mid-epoch), resume on two processes: same weights, same
    data shards and the same noise as the run that went straight through."""
    (after_first,) = (ddp_folder / "checkpoints").glob("*0000001.ckpt")
    resumed = run_cli(ddp_folder, "resumed", f"--ckpt_path={after_first}")
    for rank in (0, 1):
        assert torch.equal(resumed[rank]["real"][0], ddp_run[rank]["real"][1])
        assert torch.equal(resumed[rank]["latent"][0], ddp_run[rank]["latent"][len(ddp_run[rank]["latent"]) // 2])
        for name, tensor in ddp_run[rank]["final"].items():
            assert torch.equal(resumed[rank]["final"][name], tensor), f"rank {rank}: {name}"


BATCHNORM_DDP = str(FIXTURES / "ddp_batchnorm.yaml")


@pytest.fixture(scope="module")
def batchnorm_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 iterations, 2 per epoch, a validation after each epoch, a checkpoint after each step."""
    folder = tmp_path_factory.mktemp("ddp_batchnorm")
    run_cli(
        folder,
        "records",
        "--trainer.callbacks+=tests.helpers.ddp_recorder.RecordBuffers",
        f"--trainer.callbacks.directory={folder / 'records'}",
        "--checkpoint.every_n_train_steps=1",
        "--checkpoint.save_top_k=-1",
        f"--checkpoint.dirpath={folder / 'checkpoints'}",
        config=BATCHNORM_DDP,
    )
    return folder


def snapshots(folder: Path, rank: int) -> list[tuple[str, int, dict[str, torch.Tensor]]]:
    return torch.load(folder / "records" / f"buffers_rank{rank}.pt")


@pytest.mark.slow
def test_every_rank_sees_the_same_buffers_wherever_the_model_is_looked_at(batchnorm_run: Path):
    first, second = snapshots(batchnorm_run, 0), snapshots(batchnorm_run, 1)
    events = [(event, step) for event, step, _ in first]
    assert events == [(event, step) for event, step, _ in second]
    assert {"validation_start", "train_epoch_end", "train_end"} <= {event for event, _ in events}
    *_, final = first[-1]
    for network in ("generator", "discriminator", "generator_ema"):
        statistics = [name for name in final if name.startswith(f"{network}.") and name.endswith("running_mean")]
        assert statistics, f"the test needs BatchNorm in the {network}"
        assert all(final[name].abs().sum() > 0 for name in statistics), "running statistics never updated"
    for (event, step, buffers), (_, _, other) in zip(first, second, strict=True):
        for name, buffer in buffers.items():
            assert torch.equal(buffer, other[name]), f"{name} differs between ranks at {event} (step {step})"


@pytest.mark.slow
def test_checkpoints_hold_the_buffers_every_rank_has(batchnorm_run: Path):
    seen = {step: buffers for event, step, buffers in snapshots(batchnorm_run, 1) if event == "validation_start"}
    assert sorted(seen) == [2, 4]
    for step, buffers in seen.items():
        (path,) = (batchnorm_run / "checkpoints").glob(f"*{step:07d}.ckpt")
        state = torch.load(path, weights_only=True)["state_dict"]
        for name, buffer in buffers.items():
            assert torch.equal(state[name], buffer), f"step {step}: {name}"
    *_, (_, _, final) = snapshots(batchnorm_run, 1)
    state = torch.load(batchnorm_run / "records" / "final.ckpt", weights_only=True)["state_dict"]
    for name, buffer in final.items():
        assert torch.equal(state[name], buffer), name
