"""Benchmark tasks run by benchmarks/harness.py: each module has TITLE, DESCRIPTION and run(ctx)."""
