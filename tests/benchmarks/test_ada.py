"""benchmarks/ada.py: the tables over seeds, the per-seed verdict, merging and the curves' figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.ada import markdown, merge, plot

SETTINGS = {
    "quick": False,
    "steps": 20,
    "train_size": 200,
    "eval_every": 10,
    "num_samples": 100,
    "base_width": 16,
    "target": 0.6,
    "policy": "digits",
    "speed_kimg": 20.0,
    "jobs": 1,
}


def run(variant: str, seed: int, fids: tuple[float, float]) -> dict:
    """A results record as ``train`` writes it: two evaluations, three trace points."""
    best = min(range(2), key=fids.__getitem__)
    return {
        "variant": variant,
        "seed": seed,
        "seconds": 1.0,
        "fid_final": fids[-1],
        "fid_best": fids[best],
        "fid_best_iteration": (10, 20)[best],
        "fid_floor": 0.5,
        "rt_final": 0.6,
        "p_final": 0.3 if variant == "ada" else None,
        "evaluations": [{"iteration": 10, "val/fid": fids[0]}, {"iteration": 20, "val/fid": fids[1]}],
        "trace": [{"iteration": i, "ada_rt": 0.5 + i / 100, "ada_p": i / 100} for i in (0, 10, 20)],
    }


def results_file(path: Path, runs: list[dict], **settings: object) -> Path:
    variants = sorted({r["variant"] for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    record = {"settings": {**SETTINGS, "variants": variants, "seeds": seeds, **settings}, "total_seconds": 5.0}
    path.write_text(json.dumps({**record, "runs": runs}))
    return path


def test_each_seed_is_judged_ada_best_below_the_unaugmented_best():
    runs = [
        run("none", 0, (3.0, 4.0)),
        run("ada", 0, (3.5, 2.5)),
        run("none", 1, (3.0, 2.0)),
        run("ada", 1, (2.5, 2.2)),
    ]
    runs += [run("none", 2, (2.0, 2.4)), run("ada", 2, (2.1, 2.3))]
    table = markdown(runs, ["none", "ada"])
    assert "| 0 | 3.00 (10) | 2.50 (20) | yes |" in table
    assert "| 1 | 2.00 (20) | 2.20 (20) | **no** |" in table
    assert "| 2 | 2.00 (10) | 2.10 (10) | **no** |" in table
    # mean ± s.e. of the three seeds' curves: none at iteration 10 is 3.0, 3.0, 2.0
    assert "| 10 | 2.67 ± 0.33 | 2.70 ± 0.42 | 0.100 | 0.60 / 0.60 |" in table
    assert "| none | 3 | 2.80 ± 0.61 | 2.33 ± 0.33 |" in table


def test_merge_pools_side_by_side_processes_and_refuses_different_settings(tmp_path: Path):
    first = results_file(tmp_path / "a.json", [run("none", 0, (3.0, 2.0)), run("ada", 0, (2.0, 1.5))])
    second = results_file(tmp_path / "b.json", [run("diffaugment", 0, (3.0, 2.5)), run("none", 1, (3.1, 2.1))])
    merged = merge([first, second])
    assert [(r["seed"], r["variant"]) for r in merged["runs"]] == [
        (0, "none"),
        (0, "diffaugment"),
        (0, "ada"),
        (1, "none"),
    ]
    assert merged["settings"]["variants"] == ["none", "diffaugment", "ada"]
    assert merged["settings"]["seeds"] == [0, 1]
    assert merged["settings"]["jobs"] == 2
    assert "| 0 | 2.00 (20) | 2.50 (20) | 1.50 (20) | yes |" in merged["table"]

    other = results_file(tmp_path / "c.json", [run("ada", 1, (2.0, 1.0))], steps=40)
    with pytest.raises(SystemExit, match="disagree on steps"):
        merge([first, other])
    with pytest.raises(SystemExit, match="same variant and seed"):
        merge([first, first])


def test_the_figure_draws_fid_r_t_and_p(tmp_path: Path):
    from PIL import Image

    runs = [run("none", 0, (3.0, 2.0)), run("ada", 0, (2.0, 1.5)), run("ada", 1, (2.2, 1.7))]
    path = tmp_path / "ada.png"
    plot({"settings": {**SETTINGS, "variants": ["none", "ada"]}, "runs": runs}, path)
    with Image.open(path) as image:
        assert image.width > 2 * image.height  # three panels side by side
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16)) > 8  # drawn, not blank
