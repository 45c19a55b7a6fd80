"""Benchmarks: figures beside targets (`python -m benchmarks.speed`, `... .accuracy`)."""
