"""Benchmarks of prodigy's orchestration costs, each side by side with a baseline measured in
the same run. `python -m benchmarks --help`; results go to benchmarks/results/."""
