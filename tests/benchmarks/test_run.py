"""benchmarks/run.py renders BENCHMARKS.md's generated blocks from results files (no training here)."""

from __future__ import annotations

import json
import shutil

import pytest

from benchmarks import run as runner
from tests.conftest import REPO_ROOT

RESULTS = REPO_ROOT / "benchmarks" / "results"


def test_replacing_a_block_keeps_the_prose_and_is_idempotent():
    text = "intro\n\n<!-- generated:x -->\nold\n<!-- /generated:x -->\n\nprose after\n"
    once = runner.replace_block(text, "x", "| new |", "X")
    assert once == "intro\n\n<!-- generated:x -->\n| new |\n<!-- /generated:x -->\n\nprose after\n"
    assert runner.replace_block(once, "x", "| new |", "X") == once


def test_a_block_without_markers_is_appended_under_its_title_once():
    once = runner.replace_block("# Benchmarks\n", "new", "table", "New section")
    assert once.endswith("## New section\n\n<!-- generated:new -->\ntable\n<!-- /generated:new -->\n")
    assert runner.replace_block(once, "new", "table", "New section") == once


def test_quick_results_never_share_a_file_with_full_results():
    for section in runner.SECTIONS:
        for block in section.blocks:
            if block.archived:
                continue
            assert block.results_file(quick=True) != block.results_file(quick=False)
            assert str(block.results_file(quick=True).relative_to(REPO_ROOT)) in block.command(quick=True)
            assert "--quick" in block.command(quick=True) and "--quick" not in block.command(quick=False)


def test_every_benchmark_module_is_registered_and_runs_as_a_module():
    """A script outside the registry is never rerun nor rendered: every module in benchmarks/
    (but the harness and the runner) is a section, and each block runs ``-m benchmarks.SECTION``."""
    modules = {path.stem for path in (REPO_ROOT / "benchmarks").glob("*.py")} - {"__init__", "harness", "run"}
    modules |= {path.parent.name for path in (REPO_ROOT / "benchmarks").glob("*/__init__.py")}
    assert modules == {section.name for section in runner.SECTIONS}
    for section in runner.SECTIONS:
        for block in section.blocks:
            if not block.archived:
                assert block.command(quick=False)[:2] == ["-m", section.module]


def test_every_results_file_has_a_block_and_every_block_its_markers():
    """Every results file (but the run logs) is some block's, and BENCHMARKS.md has a place for every block."""
    blocks = [block for section in runner.SECTIONS for block in section.blocks]
    names = {block.name for block in blocks} | {f"{block.name}_quick" for block in blocks if not block.archived}
    files = {path.stem for path in RESULTS.glob("*.json")} - {"run_log", "run_log_quick"}
    assert files <= names, files - names
    assert not list((REPO_ROOT / "benchmarks").glob("*.json"))  # results live in benchmarks/results/
    markdown = (REPO_ROOT / "BENCHMARKS.md").read_text()
    assert all(f"<!-- generated:{block.name} -->" in markdown for block in blocks)


def test_archived_blocks_are_rendered_but_never_rerun(tmp_path):
    archived = next(block for section in runner.SECTIONS for block in section.blocks if block.archived)
    with pytest.raises(ValueError, match="archived"):
        archived.command(quick=False)
    sections = [section for section in runner.SECTIONS if archived in section.blocks]
    ran = []
    runner.run(
        sections,
        quick=True,
        run_one=lambda block, quick: ran.append(block) or {"returncode": 1, "command": []},
        results=tmp_path,
    )
    assert ran and archived not in ran
    assert "_quick" not in runner.provenance(archived, {}, None, quick=True)  # quick renders show the record itself


def test_render_only_on_a_copy_reproduces_the_committed_tables(tmp_path):
    copy = tmp_path / "BENCHMARKS.md"
    shutil.copy(REPO_ROOT / "BENCHMARKS.md", copy)
    assert runner.main(["--render-only", "--markdown", str(copy)]) == 0
    rendered = copy.read_text()
    assert rendered == (REPO_ROOT / "BENCHMARKS.md").read_text()  # the committed file is a fresh render
    srgan = json.loads((RESULTS / "srgan.json").read_text())
    psnr = srgan["results"]["SRGAN (last)"]["psnr_sr"]
    assert f"| SRGAN ({srgan['steps']:,} it.) | {psnr:.2f} |" in rendered
    runner.main(["--render-only", "--markdown", str(copy)])
    assert copy.read_text() == rendered  # rendering twice gives the same file


def test_missing_results_are_skipped_with_a_notice_and_leave_the_block(tmp_path, capsys):
    markdown = tmp_path / "B.md"
    markdown.write_text("<!-- generated:srgan -->\nearlier table\n<!-- /generated:srgan -->\n")
    runner.render(quick=True, markdown=markdown, results_dir=tmp_path)
    assert "earlier table" in markdown.read_text()
    notices = capsys.readouterr().out
    assert f"skip srgan: no results file {tmp_path / 'srgan_quick.json'}" in notices
    assert "skip video_translating: no results file" in notices


def test_quick_results_render_with_a_quick_marker(tmp_path):
    shutil.copy(RESULTS / "srgan.json", tmp_path / "srgan_quick.json")
    markdown = tmp_path / "B.md"
    markdown.write_text("<!-- generated:srgan -->\n<!-- /generated:srgan -->\n")
    runner.render(quick=True, markdown=markdown, results_dir=tmp_path)
    block = markdown.read_text()
    assert (
        "**Quick run**" in block and "| bicubic upscale |" in block and "Generated blocks below: **quick run**" in block
    )


def test_header_holds_date_machine_and_load_average(tmp_path):
    host = runner.machine()
    assert {"cpu", "cores", "torch", "gpu"} <= set(host) and host["cores"] >= 1
    invocation = {
        "date": "2026-12-04 19:00",
        "seconds": 612.0,
        "sections": ["srgan"],
        "failed": [],
        "machine": host,
        "load_before": [1.5, 1.0, 0.5],
        "load_after": [2.0, 1.5, 1.0],
    }
    runner.log_file(quick=False, results=tmp_path).write_text(json.dumps({"blocks": {}, "invocation": invocation}))
    markdown = tmp_path / "B.md"
    markdown.write_text("# Benchmarks\n")
    runner.render(quick=False, markdown=markdown, results_dir=tmp_path)
    text = markdown.read_text()
    assert "2026-12-04 19:00" in text and runner.describe(host) in text
    assert f"torch {host['torch']}" in text and "[1.5, 1.0, 0.5]" in text and "full runs" in text


def test_unknown_section_is_a_clear_error(capsys):
    with pytest.raises(SystemExit):
        runner.main(["--only", "nope", "--list"])
    assert "unknown section(s) nope; choose from" in capsys.readouterr().err


def test_list_prints_every_command_without_running(capsys):
    assert runner.main(["--list", "--quick", "--only", "cyclegan"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all("python -m benchmarks.cyclegan --quick" in line for line in lines)


def test_blocks_run_side_by_side_and_failures_stay_out_of_the_log(tmp_path):
    import threading

    both_running = threading.Barrier(2, timeout=10)  # breaks (an error) unless two blocks run at once

    def fake_block(block, quick):
        both_running.wait()
        failed = block.name == "cyclegan"
        return {"command": ["python", block.name], "seconds": 0.0, "load_after": [0.0], "returncode": int(failed)}

    sections = [section for section in runner.SECTIONS if section.name == "cyclegan"]  # two blocks
    failures = runner.run(sections, quick=True, jobs=2, run_one=fake_block, results=tmp_path)
    assert failures == ["cyclegan"]
    log = json.loads((tmp_path / "run_log_quick.json").read_text())
    assert set(log["blocks"]) == {"cyclegan_inverted"}
    assert log["invocation"]["jobs"] == 2 and log["invocation"]["failed"] == ["cyclegan"]
