"""One command regenerates BENCHMARKS.md: run the benchmarks, then rewrite every generated block.

    python -m benchmarks.run --quick              # every section, few seeds/steps, one block per core: ~15 min on 2
    python -m benchmarks.run                      # the full tables (hours on a CPU)
    python -m benchmarks.run --only srgan ada     # some sections
    python -m benchmarks.run --render-only        # no runs: re-render from benchmarks/results/*.json
    python -m benchmarks.run --list

Run from the repository root. BENCHMARKS.md keeps its hand-written prose; what is generated
lives between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``. Each block is one
results file, ``benchmarks/results/NAME.json`` (``NAME_quick.json`` for ``--quick``, so a quick
run never overwrites the full numbers), rendered by a function of the section's module
(``report(results) -> str`` unless the block names another). Every benchmark is a section here;
each is run as ``python -m benchmarks.SECTION`` with the flags of :mod:`benchmarks.harness`.
Rendering reads only results files (and ``run_log[_quick].json``, what this runner recorded
about each run: date, machine, load average, wall time), so it is idempotent. A section whose
module or render function is missing, or a block without its results file, is skipped with a
one-line notice and its block is left as it is; a block with no markers yet is appended at the
end of the file. An *archived* block (no command) is the record of an earlier experiment that
the prose cites: it is rendered, never rerun.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.harness import RESULTS, ROOT, load_average, results_file

MARKDOWN = ROOT / "BENCHMARKS.md"
HEADER = "header"


@dataclass(frozen=True)
class Block:
    """One generated block: its marker name (= results file stem), the arguments (after
    ``python``) that write it, full and quick (``{out}`` is the results file; None for an
    archived block, which is never rerun), and the section module's function that renders it."""

    name: str
    full: str | None
    quick: str | None
    render: str = "report"

    @property
    def archived(self) -> bool:
        return self.full is None

    def results_file(self, quick: bool, results: Path = RESULTS) -> Path:
        return results_file(self.name, quick, results)

    def command(self, quick: bool, results: Path = RESULTS) -> list[str]:
        arguments = self.quick if quick else self.full
        if arguments is None:
            raise ValueError(f"{self.name} is archived: no command writes it.")
        out = self.results_file(quick, results)
        out = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
        return arguments.format(out=out).split()


@dataclass(frozen=True)
class Section:
    """A benchmark, the module ``benchmarks.<name>``, and the blocks it renders."""

    name: str
    title: str
    blocks: tuple[Block, ...]

    @property
    def module(self) -> str:
        return f"benchmarks.{self.name}"


def _block(name: str, full: str, quick: str, render: str = "report") -> Block:
    """A block written by ``python -m benchmarks.<full>`` (``<quick>`` under ``--quick``)."""
    return Block(name, f"-m benchmarks.{full}", f"-m benchmarks.{quick}", render)


SECTIONS = (
    Section(
        "overhead",
        "Framework overhead vs a hand-written loop",
        (
            _block(
                "overhead", "overhead --steps 30 --repeats 3 --threads 1 2 --out {out}", "overhead --quick --out {out}"
            ),
        ),
    ),
    Section(
        "compile",
        "Compiled training phases",
        (_block("compile", "compile --out {out}", "compile --quick --out {out}"),),
    ),
    Section(
        "time_to_quality",
        "Time to quality: wgan.yaml to FID ≤ 2× floor, eager vs compiled",
        (_block("time_to_quality", "time_to_quality --out {out}", "time_to_quality --quick --threads 1 --out {out}"),),
    ),
    Section(
        "throughput",
        "GPU throughput: images/s and s/kimg",
        (_block("throughput", "throughput --device cuda --out {out}", "throughput --device cpu --quick --out {out}"),),
    ),
    Section(
        "family_speed",
        "Seconds per iteration of each family config",
        (_block("family_speed", "family_speed --steps 10 --warmup 3 --out {out}", "family_speed --quick --out {out}"),),
    ),
    Section(
        "ddp",
        "DDP: GANDDPStrategy vs Lightning's DDP with find_unused_parameters=True",
        (_block("ddp", "ddp --steps 30 --warmup 5 --repeats 3 --out {out}", "ddp --quick --out {out}"),),
    ),
    Section(
        "metrics_cost",
        "Evaluation metrics: cost and floors",
        (_block("metrics_cost", "metrics_cost --out {out}", "metrics_cost --quick --out {out}"),),
    ),
    Section(
        "mnist_classifier",
        "The digit reader: the shipped MNIST classifier",
        (_block("mnist_classifier", "mnist_classifier --out {out}", "mnist_classifier --quick --out {out}"),),
    ),
    Section(
        "wgan_floor",
        "wgan.yaml at the floor",
        (_block("wgan_floor", "wgan_floor --out {out}", "wgan_floor --quick --out {out}"),),
    ),
    Section(
        "truncation",
        "wgan.yaml: precision against recall over the truncation threshold",
        (_block("truncation", "truncation --out {out}", "truncation --quick --out {out}"),),
    ),
    Section(
        "ema_length",
        "wgan.yaml: a longer moving average of G",
        (
            _block(
                "ema_length",
                "ema_length --seed 0 --threads 1 --out {out}",
                "ema_length --quick --threads 1 --out {out}",
            ),
        ),
    ),
    Section(
        "toy2d",
        "2D mode collapse: ring of 8 and grid of 25 Gaussians",
        (
            _block(
                "toy2d",
                "toy2d --configs gan pacgan4 --seeds 10 --steps 2000 --out {out}",
                "toy2d --quick --configs gan pacgan4 --out {out}",
            ),
            _block(
                "toy2d_r1_ring",
                "toy2d --configs gan_r1 --layouts ring --seeds 10 --steps 2000 --out {out}",
                "toy2d --quick --configs gan_r1 --layouts ring --out {out}",
                render="table",
            ),
            _block(
                "toy2d_r1_grid",
                "toy2d --configs gan_r1 --layouts grid --seeds 10 --steps 10000 --out {out}",
                "toy2d --quick --configs gan_r1 --layouts grid --out {out}",
                render="table",
            ),
            _block(
                "toy2d_best",
                "toy2d --configs toy2d_best --rejection-quantile 0.01 --out {out}",
                "toy2d --quick --configs toy2d_best --rejection-quantile 0.01 --out {out}",
            ),
            Block("toy2d_gan_r1_rejection_ring", None, None, render="table"),
            Block("toy2d_probes_ring_gamma", None, None, render="table"),
        ),
    ),
    Section(
        "fundamentals",
        "GAN fundamentals",
        tuple(
            _block(
                f"fundamentals_{name}",
                f"fundamentals {name} --out {{out}}",
                f"fundamentals {name} --quick --out {{out}}",
            )
            for name in ("vanishing", "equilibrium", "instability", "critic_loss")
        ),
    ),
    Section(
        "stacked_mnist",
        "Stacked MNIST (1,000 modes)",
        (
            _block("stacked_mnist", "stacked_mnist --out {out}", "stacked_mnist --quick --out {out}"),
            Block("stacked_mnist_raw_probe", None, None, render="report_raw_generator"),
            _block(
                "stacked_mnist_20k",
                "stacked_mnist --configs wgan --seeds 0 1 2 --steps 20000 --count-at 10000 --out {out}",
                "stacked_mnist --quick --configs wgan --out {out}",
            ),
        ),
    ),
    Section(
        "srgan",
        "SRGAN ×4 (MNIST-5k demo)",
        (_block("srgan", "srgan --steps 1600 --pretrain 400 --out {out}", "srgan --quick --out {out}"),),
    ),
    Section(
        "sr_photos",
        "SRGAN ×4 on photographs",
        (_block("sr_photos", "sr_photos --steps 600 --pretrain 300 --out {out}", "sr_photos --quick --out {out}"),),
    ),
    Section(
        "ada",
        "ADA on few digits",
        (
            _block(
                "ada_long",
                "ada --train-size 200 --r1-weight 0.1 --d-width 32 --steps 5000 --seeds 0 1 2 --eval-every 500 "
                "--base-width 16 --jobs 2 --out {out}",
                "ada --quick --out {out}",
            ),
            Block("ada", None, None),  # the first, 800-iteration run the prose cites
            Block("ada_probes", None, None, render="report_probes"),  # the search for a setting where D overfits
        ),
    ),
    Section(
        "pix2pix",
        "pix2pix (MNIST-5k demo)",
        (_block("pix2pix", "pix2pix --steps 2500 --out {out}", "pix2pix --quick --out {out}"),),
    ),
    Section(
        "cyclegan",
        "CycleGAN (MNIST-5k demo)",
        (
            _block(
                "cyclegan_inverted",
                "cyclegan --steps 1000 --val-every 250 --style inverted --out {out}",
                "cyclegan --quick --style inverted --out {out}",
            ),
            _block(
                "cyclegan",
                "cyclegan --steps 1000 --val-every 250 --style thick --out {out}",
                "cyclegan --quick --style thick --out {out}",
            ),
        ),
    ),
    Section(
        "augmentation",
        "GANs as data augmentation (CAS)",
        (
            _block("augmentation", "augmentation --out {out}", "augmentation --quick --out {out}"),
            _block(
                "augmentation_ssl",
                "augmentation --label-source semi_supervised --out {out}",
                "augmentation --quick --label-source semi_supervised --out {out}",
            ),
        ),
    ),
    Section(
        "semi_supervised",
        "Semi-supervised GAN (few labels + unlabelled digits)",
        (
            _block("semi_supervised", "semi_supervised --out {out}", "semi_supervised --quick --out {out}"),
            _block(
                "semi_supervised_conv",
                "semi_supervised --config configs/semi_supervised_conv.yaml --labels-per-class 10 --out {out}",
                "semi_supervised --quick --config configs/semi_supervised_conv.yaml --out {out}",
            ),
        ),
    ),
    Section(
        "video",
        "Video (Moving MNIST from MNIST-5k)",
        (
            _block("video", "video --out {out}", "video --quick --out {out}"),
            _block(
                "video_translating",
                "video --config configs/video_translating.yaml --out {out}",
                "video --quick --config configs/video_translating.yaml --out {out}",
            ),
            _block(
                "video_warping",
                "video --config configs/video_warping.yaml --seed 0 --out {out}",
                "video --quick --config configs/video_warping.yaml --out {out}",
            ),
            _block(
                "video_pairs",
                "video --config configs/video_pairs.yaml --out {out}",
                "video --quick --config configs/video_pairs.yaml --out {out}",
            ),
        ),
    ),
    Section(
        "text2image",
        "Text-to-image (MNIST-5k captions)",
        (_block("text2image", "text2image --steps 5000 --out {out}", "text2image --quick --out {out}"),),
    ),
    Section(
        "scoreboard",
        "Scoreboard",
        (
            _block(
                "scoreboard",
                "scoreboard --budget 300 --update-models-md --out {out}",
                "scoreboard --quick --out {out}",
            ),
        ),
    ),
)


# ---------------------------------------------------------------------------------------------
# The machine and the run log


def machine() -> dict[str, Any]:
    """CPU model, cores, torch version and GPU (if any) of this machine."""
    import torch

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = models[0].strip() if models else cpu
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "gpu": gpu}


def describe(host: dict[str, Any]) -> str:
    return f"{host['cpu']}, {host['cores']} cores, torch {host['torch']}, " + (
        f"GPU {host['gpu']}" if host.get("gpu") else "no GPU"
    )


def log_file(quick: bool, results: Path = RESULTS) -> Path:
    return results / f"run_log{'_quick' if quick else ''}.json"


def read_log(quick: bool, results: Path = RESULTS) -> dict[str, Any]:
    path = log_file(quick, results)
    return json.loads(path.read_text()) if path.is_file() else {"blocks": {}, "invocation": None}


# ---------------------------------------------------------------------------------------------
# Rendering


def markers(name: str) -> tuple[str, str]:
    return f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"


def replace_block(text: str, name: str, body: str, title: str) -> str:
    """``text`` with block ``name``'s content replaced by ``body`` (appended under ``## title``
    when the file has no such block yet)."""
    start, end = markers(name)
    content = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: content, text, count=1)
    return f"{text.rstrip()}\n\n## {title}\n\n{content}\n"


def load_module(section: Section) -> tuple[ModuleType | None, str | None]:
    """The section's module, or None and why not."""
    if importlib.util.find_spec(section.module) is None:
        return None, f"{section.module} does not exist yet"
    return importlib.import_module(section.module), None


def provenance(block: Block, results: dict[str, Any], entry: dict[str, Any] | None, quick: bool) -> str:
    """The line under a table: the results file and the run that wrote it."""
    file = block.results_file(quick and not block.archived).relative_to(ROOT)
    if block.archived:
        written = f", written by `{results['command']}`" if "command" in results else ""
        return f"_From `{file}`{written}: the record of an earlier experiment, kept for the text; run.py does not rerun it._"
    if entry is None:
        command = results.get("command") or "python " + " ".join(block.command(quick))
        return f"_From `{file}`, written by `{command}` before benchmarks/run.py recorded runs._"
    return (
        f"_From `{file}`: `{' '.join(entry['command'])}`, {entry['date']}, {entry['seconds']:.0f} s, "
        f"load average {entry['load_before'][0]} → {entry['load_after'][0]}, {describe(entry['machine'])}._"
    )


def render_block(block: Block, module: ModuleType, quick: bool, log: dict[str, Any], results_dir: Path) -> str | None:
    """The block's Markdown, or None when its results file (or render function) is missing."""
    path = block.results_file(quick and not block.archived, results_dir)
    render = getattr(module, block.render, None)
    if not path.is_file() or render is None:
        return None
    results = json.loads(path.read_text())
    parts = []
    if quick and not block.archived:
        parts.append(
            "> **Quick run** (`python -m benchmarks.run --quick`): fewer seeds, steps and samples than the full "
            "benchmark. These numbers check that the pipeline works; they are not the results the text discusses."
        )
    parts += [render(results).strip(), provenance(block, results, log["blocks"].get(block.name), quick)]
    return "\n\n".join(parts)


def header(quick: bool, log: dict[str, Any]) -> str:
    """Date, machine, load average and mode of the last run.py invocation."""
    mode = "**quick run** (`--quick`: fewer seeds and steps)" if quick else "full runs"
    lines = [f"Generated blocks below: {mode}, rendered from `benchmarks/results/` by `python -m benchmarks.run`."]
    run = log.get("invocation")
    if run is None:
        lines.append("No run recorded by run.py yet: each block names the command that wrote its results.")
    else:
        sections = ", ".join(run["sections"]) or "none"
        lines.append(
            f"Last run: {run['date']} ({run['seconds']:.0f} s, sections: {sections}), on {describe(run['machine'])}; "
            f"load average (1, 5, 15 min) {run['load_before']} before, {run['load_after']} after."
        )
    return "\n\n".join(lines)


def render(quick: bool, markdown: Path = MARKDOWN, results_dir: Path = RESULTS) -> None:
    """Rewrite the generated blocks of ``markdown`` from the results files."""
    log = read_log(quick, results_dir)
    text = markdown.read_text()
    text = replace_block(text, HEADER, header(quick, log), "Benchmarks")
    for section in SECTIONS:
        module, why = load_module(section)
        if module is None:
            print(f"skip {section.name}: {why}")
            continue
        for block in section.blocks:
            body = render_block(block, module, quick, log, results_dir)
            if body is None:
                print(f"skip {block.name}: {missing(block, section, quick, results_dir)}")
                continue
            text = replace_block(text, block.name, body, section.title)
    markdown.write_text(text)


def missing(block: Block, section: Section, quick: bool, results_dir: Path) -> str:
    """Why a block was not rendered."""
    file = block.results_file(quick and not block.archived, results_dir)
    if not file.is_file():
        return f"no results file {file} (run: python -m benchmarks.run --only {section.name})"
    return f"{section.module} has no {block.render}() yet"


# ---------------------------------------------------------------------------------------------
# Running


def run_block(block: Block, quick: bool) -> dict[str, Any]:
    """Run one block's command (one thread, offline W&B); its log entry."""
    command = ["python", *block.command(quick)]
    env = os.environ | {"OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}
    before, start = load_average(), time.perf_counter()
    returncode = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env=env).returncode
    return {
        "command": command,
        "date": datetime.date.today().isoformat(),
        "seconds": round(time.perf_counter() - start, 1),
        "load_before": before,
        "load_after": load_average(),
        "machine": machine(),
        "returncode": returncode,
    }


def run(sections: list[Section], quick: bool, jobs: int = 1, run_one: Any = None, results: Path = RESULTS) -> list[str]:
    """Run every block of ``sections``, ``jobs`` at a time (each one thread), recording each
    in the run log under ``results``; the names of the blocks that failed. ``run_one(block,
    quick)`` runs one block (default :func:`run_block`)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm import tqdm

    run_one = run_one or run_block
    log = read_log(quick, results)
    failures, ran = [], []
    before, start = load_average(), time.perf_counter()
    blocks = []
    for section in sections:
        module, why = load_module(section)
        if module is None:
            tqdm.write(f"skip {section.name}: {why}")
            continue
        blocks += [block for block in section.blocks if not block.archived]
    bar = tqdm(total=len(blocks), desc="benchmarks", unit="block", dynamic_ncols=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        running = {pool.submit(run_one, block, quick): block for block in blocks}
        for done in as_completed(running):
            block, entry = running[done], done.result()
            bar.update()
            if entry["returncode"] != 0:
                failures.append(block.name)
                tqdm.write(f"FAILED {block.name} (exit {entry['returncode']}): {' '.join(entry['command'])}")
                continue
            log["blocks"][block.name] = entry
            ran.append(block.name)
            tqdm.write(f"done {block.name} in {entry['seconds']:.0f} s (load {entry['load_after'][0]})")
    bar.close()
    log["invocation"] = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "seconds": round(time.perf_counter() - start, 1),
        "sections": ran,
        "failed": failures,
        "jobs": jobs,
        "machine": machine(),
        "load_before": before,
        "load_after": load_average(),
    }
    results.mkdir(parents=True, exist_ok=True)
    log_file(quick, results).write_text(json.dumps(log, indent=1) + "\n")
    return failures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few seeds/steps; results in *_quick.json")
    parser.add_argument("--only", nargs="+", metavar="SECTION", help="these sections only (see --list)")
    parser.add_argument("--render-only", action="store_true", help="no runs: re-render BENCHMARKS.md from results")
    parser.add_argument("--list", action="store_true", help="print the sections and their commands")
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help="the file to render (default BENCHMARKS.md)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="blocks run side by side, one thread each (default: every core for --quick, 1 for the full runs, "
        "whose timings are part of the results)",
    )
    args = parser.parse_args(argv)
    names = [section.name for section in SECTIONS]
    unknown = sorted(set(args.only or []) - set(names))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    selected = [section for section in SECTIONS if not args.only or section.name in args.only]
    if args.list:
        for section in selected:
            for block in section.blocks:
                command = (
                    "(archived: rendered, not rerun)"
                    if block.archived
                    else "python " + " ".join(block.command(args.quick))
                )
                print(f"{section.name:16s} {block.name:28s} {command}")
        return 0
    jobs = args.jobs or ((os.cpu_count() or 1) if args.quick else 1)
    failures = [] if args.render_only else run(selected, args.quick, jobs)
    render(args.quick, args.markdown)
    print(f"rendered {args.markdown}" + (f"; FAILED: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
