"""Two "nodes" of one process each on this machine, started as on a cluster: one
``torchrun --nnodes=2 --node_rank=i --nproc_per_node=1`` per node with a local rendezvous,
running the CLI with ``--trainer.num_nodes=2`` (gloo, CPU).

The two ranks end with the weights one process reaches on the combined batch (MLP networks,
no batch statistics), every checkpoint file is written once, by global rank 0, and a run
preempted with SIGTERM on node 0 saves the iteration under way on both nodes' behalf and
resumes, on two nodes again, to the uninterrupted run's weights, bit for bit.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

from gan_lightning.cli import GANLightningCLI
from tests.conftest import FIXTURES, REPO_ROOT, child_environment
from tests.helpers.one_process import train_on_the_combined_batch

TINY_DDP = str(FIXTURES / "ddp_tiny.yaml")
MAX_STEPS = 3
PREEMPTED_AT = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def node_command(node_rank: int, port: int, folder: Path, records: str, *extra: str) -> list[str]:
    """What a cluster runs on node ``node_rank``: torchrun, then the CLI on tests/fixtures/ddp_tiny.yaml."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes=2", f"--node_rank={node_rank}"]
    launcher += ["--nproc_per_node=1", "--master_addr=127.0.0.1", f"--master_port={port}", "-m", "gan_lightning"]
    return [
        *launcher,
        "fit",
        "--config",
        TINY_DDP,
        "--trainer.num_nodes=2",
        "--trainer.devices=1",
        f"--trainer.max_steps={MAX_STEPS}",
        f"--trainer.default_root_dir={folder}",
        f'--trainer.plugins=[{{"class_path": "tests.helpers.checkpoint_log.LoggedCheckpointIO", '
        f'"init_args": {{"log": "{folder / "written.log"}"}}}}]',
        "--checkpoint.every_n_train_steps=1",
        "--checkpoint.save_top_k=-1",
        "--checkpoint.save_last=true",
        f"--checkpoint.dirpath={folder / 'checkpoints'}",
        "--trainer.callbacks+=tests.helpers.ddp_recorder.RecordTraining",
        f"--trainer.callbacks.directory={folder / records}",
        *extra,
    ]


def start_nodes(folder: Path, records: str, *extra: str) -> list[subprocess.Popen]:
    port = free_port()
    return [
        subprocess.Popen(
            node_command(rank, port, folder, records, *extra),
            cwd=REPO_ROOT,
            env=child_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]


def finish(nodes: list[subprocess.Popen]) -> list[str]:
    """Each node's stderr, once both have exited with status 0."""
    outputs = []
    try:
        for node in nodes:
            _, stderr = node.communicate(timeout=240)
            assert node.returncode == 0, stderr[-4000:]
            outputs.append(stderr)
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    return outputs


def records(folder: Path, name: str) -> list[dict]:
    return [torch.load(folder / name / f"rank{rank}.pt") for rank in (0, 1)]


def writers(folder: Path) -> Counter:
    """How many times each (rank, file) was written."""
    return Counter(tuple(line.split(" ", 1)) for line in (folder / "written.log").read_text().splitlines())


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two_nodes")
    finish(start_nodes(folder, "records"))
    return folder


@pytest.mark.slow
def test_two_nodes_train_as_one_process_on_the_combined_batch(two_nodes: Path, tmp_path: Path):
    first, second = records(two_nodes, "records")
    assert first["strategy"] == second["strategy"] == "GANDDPStrategy"
    assert first["global_step"] == second["global_step"] == MAX_STEPS
    assert not torch.equal(first["real"][0], second["real"][0]), "both nodes trained on the same shard"
    for name, tensor in first["final"].items():
        assert torch.equal(tensor, second["final"][name]), f"{name} differs between the nodes"
    cli = GANLightningCLI(args=["--config", TINY_DDP, "--trainer.devices=1", "--trainer.strategy=auto"], run=False)
    reference = train_on_the_combined_batch(cli.model, [first, second], MAX_STEPS, tmp_path)
    for name, tensor in reference.items():
        torch.testing.assert_close(tensor, first["final"][name], rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.slow
def test_every_checkpoint_is_written_once_by_global_rank_zero(two_nodes: Path):
    written = writers(two_nodes)
    checkpoints = two_nodes / "checkpoints"
    expected = [f"step_{step:07d}.ckpt" for step in range(1, MAX_STEPS + 1)] + ["last.ckpt"]
    assert sorted(path.name for path in checkpoints.iterdir()) == sorted(expected)
    assert {rank for rank, _ in written} == {"0"}, "a rank other than 0 wrote a checkpoint"
    assert all(count == 1 for (_, path), count in written.items() if "step_" in path), written
    assert torch.load(checkpoints / "last.ckpt", weights_only=True)["global_step"] == MAX_STEPS


@pytest.mark.slow
def test_sigterm_on_one_node_saves_for_both_and_the_resumed_run_equals_the_uninterrupted_one(
    two_nodes: Path, tmp_path: Path
):
    marker = tmp_path / "rank0_pid"
    nodes = start_nodes(
        tmp_path,
        "preempted",
        "--trainer.callbacks+=tests.helpers.signals.WaitForSignal",
        f"--trainer.callbacks.step={PREEMPTED_AT}",
        f"--trainer.callbacks.marker={marker}",
    )
    deadline = time.monotonic() + 180
    while not marker.exists() or not marker.read_text():
        assert all(node.poll() is None for node in nodes), "a node exited before the iteration to preempt"
        assert time.monotonic() < deadline, "the run never reached the iteration to preempt"
        time.sleep(0.05)
    os.kill(int(marker.read_text()), signal.SIGTERM)  # rank 0's worker, as torchrun passes the signal on
    marker.unlink()
    stderr = finish(nodes)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert f"Preempted (SIGTERM) at iteration {PREEMPTED_AT}: saved {last}" in stderr[0]
    assert "Traceback" not in "".join(stderr)
    assert torch.load(last, weights_only=True)["global_step"] == PREEMPTED_AT
    assert writers(tmp_path)[("0", str(last))] == 1 and {rank for rank, _ in writers(tmp_path)} == {"0"}

    finish(start_nodes(tmp_path, "resumed", f"--ckpt_path={last}"))
    for rank, (resumed, uninterrupted) in enumerate(
        zip(records(tmp_path, "resumed"), records(two_nodes, "records"), strict=True)
    ):
        assert torch.equal(resumed["real"][0], uninterrupted["real"][PREEMPTED_AT]), f"rank {rank}: data shard"
        for name, tensor in uninterrupted["final"].items():
            assert torch.equal(resumed["final"][name], tensor), f"rank {rank}: {name}"
