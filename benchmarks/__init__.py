"""Benchmarks: each `bench_*.py` measures side by side in one run and returns ratios (larger = better)."""
