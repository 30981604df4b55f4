"""Learnloop benchmarks: `make bench` (python -m benchmarks.run [names...]).

Each `bench_<name>.py` has a `main()` that starts what it needs on loopback, measures side by side
in one run, prints its figures and returns them as `Result` rows for the summary table.
"""
