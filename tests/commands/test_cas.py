"""`gan-lightning cas`: the classification accuracy score of exported samples, as a table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gan_lightning.commands import cas
from gan_lightning.synthetic import (
    SyntheticDataError,
)
from tests.commands.conftest import write


def test_cas_command_on_exported_samples(conditional_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    write(conditional_run, tmp_path / "synthetic", "--num-images", "30", "--labels", "balanced")
    scores = tmp_path / "cas.json"
    argv = ["--synthetic", str(tmp_path / "synthetic"), "--config", str(conditional_run / "config.yaml")]
    assert cas.main([*argv, "--steps", "3", "--batch-size", "16", "--json", str(scores)]) == 0
    table = capsys.readouterr().out
    assert "100 real + 30 synthetic" in table and "500 held-out real" in table and "CAS" in table
    record = json.loads(scores.read_text())
    assert (record["real"], record["synthetic"], record["test"]) == (100, 30, 500)
    assert set(record["scores"]) == {"real", "synthetic", "real+synthetic", "gain"}
    with pytest.raises(SyntheticDataError, match=r"labels\.csv not found"):
        cas.main(["--synthetic", str(tmp_path), "--labels-per-class", "5", "--steps", "1"])
