"""The experiments behind BENCHMARKS.md: one module per experiment, run from the repository
root as ``python -m benchmarks.NAME``; :mod:`benchmarks.harness` holds what they share and
:mod:`benchmarks.run` runs them and renders their results."""
