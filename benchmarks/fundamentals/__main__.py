"""``python -m benchmarks.fundamentals EXPERIMENT``: see :mod:`benchmarks.fundamentals`."""

from benchmarks.fundamentals import main

main()
