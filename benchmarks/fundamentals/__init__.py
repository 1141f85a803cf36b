"""The GAN papers' core claims, measured on this repo's networks: one module per experiment.

``vanishing``: the minimax loss's gradient vanishes as D becomes confident, the
non-saturating loss's does not (:mod:`.vanishing`). ``equilibrium``: D(x) = ½ at the game's
optimum (:mod:`.equilibrium`). ``instability``: the plain GAN across seeds against stabilised
recipes (:mod:`.instability`). ``critic_loss``: WGAN's critic loss tracks FID, the standard
GAN's D loss does not (:mod:`.critic_loss`).

    python -m benchmarks.fundamentals vanishing       # ~1-2 min on 2 shared CPU cores
    python -m benchmarks.fundamentals equilibrium     # ~3 min
    python -m benchmarks.fundamentals instability     # ~6 min
    python -m benchmarks.fundamentals critic_loss     # ~25 min (two 1,500-iteration MNIST runs)
    python -m benchmarks.fundamentals all --quick     # every experiment, small: a smoke run

Each writes benchmarks/results/fundamentals_<experiment>.json (``--out``: that file for one
experiment, a folder for ``all``) and its figure under docs/images/ (``--images``).
:func:`report` turns the results into the "GAN fundamentals" section of BENCHMARKS.md. Each
experiment module has ``measure(quick) -> dict``, ``plot(result, path)``, ``table(result) ->
str``, its ``TITLE`` and its ``FIGURE``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import ModuleType

from benchmarks.fundamentals import critic_loss, equilibrium, instability, vanishing
from benchmarks.harness import IMAGES, RESULTS, load_average, parser, quiet_lightning, results_file, write_results

EXPERIMENTS: dict[str, ModuleType] = {
    "vanishing": vanishing,
    "equilibrium": equilibrium,
    "instability": instability,
    "critic_loss": critic_loss,
}


def figure_name(name: str, quick: bool) -> str:
    """The figure's file name; a quick run writes its own, never over the reported figure."""
    figure = EXPERIMENTS[name].FIGURE
    return figure.replace(".png", "_quick.png") if quick else figure


def report(results: dict[str, dict]) -> str:
    """Markdown for BENCHMARKS.md's "GAN fundamentals" section: per experiment present in
    ``results`` (name → its results JSON, or one experiment's JSON, which names itself), a
    table of the measured numbers and its figure."""
    if "experiment" in results:
        results = {results["experiment"]: results}
    parts = []
    for name, experiment in EXPERIMENTS.items():
        if name not in results:
            continue
        result = results[name]
        cost = f"{result.get('seconds', float('nan')):.0f} s"
        load = result.get("loadavg")
        if load:
            cost += f" at load average {load[0]:.1f}"
        quick = " **(quick run: smaller and shorter, not the reported numbers)**" if result.get("quick") else ""
        parts.append(
            f"### {experiment.TITLE}\n\n"
            f"`python -m benchmarks.fundamentals {name}` ({cost}){quick}\n\n"
            f"{experiment.table(result)}\n\n"
            f"![{name}](docs/images/{figure_name(name, bool(result.get('quick')))})"
        )
    return "\n\n".join(parts)


def run_experiment(name: str, quick: bool, out: Path, images: Path) -> dict:
    """Measure one experiment, write its results and figure, print its table."""
    experiment = EXPERIMENTS[name]
    start = time.time()
    result = experiment.measure(quick)
    result |= {"experiment": name, "quick": quick, "seconds": round(time.time() - start, 1), "loadavg": load_average()}
    write_results(out, result)
    figure = images / figure_name(name, quick)
    experiment.plot(result, figure)
    print(f"\n{experiment.TITLE}\n{experiment.table(result)}\n-> {out}, {figure}", flush=True)
    return result


def out_file(args: argparse.Namespace, name: str) -> Path:
    """Where experiment ``name`` writes: ``--out`` itself for one experiment, the default file
    name inside ``--out`` for ``all``, benchmarks/results/ without ``--out``."""
    default = results_file(f"fundamentals_{name}", args.quick).name
    if args.out is None:
        return RESULTS / default
    return args.out / default if args.experiment == "all" else args.out


def main(argv: list[str] | None = None) -> None:
    import torch

    command = parser(__doc__)
    command.add_argument("experiment", choices=[*EXPERIMENTS, "all"])
    command.add_argument("--quick", action="store_true", help="smaller and shorter: a smoke run, marked quick")
    command.add_argument(
        "--out",
        type=Path,
        default=None,
        help="results JSON (one experiment) or folder (all); default benchmarks/results/fundamentals_<name>[_quick].json",
    )
    command.add_argument("--images", type=Path, default=IMAGES, help="folder for the figures (default docs/images)")
    command.add_argument("--plot-only", action="store_true", help="redraw the figures from saved results")
    args = command.parse_args(argv)
    torch.set_num_threads(1)
    quiet_lightning()
    names = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    for name in names:
        out = out_file(args, name)
        if args.plot_only:
            result = json.loads(out.read_text())
            EXPERIMENTS[name].plot(result, args.images / figure_name(name, bool(result.get("quick"))))
            continue
        run_experiment(name, args.quick, out, args.images)
