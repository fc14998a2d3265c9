"""Benchmarks (not tests): `python -m scripts.bench [name ...]` prints their figures."""
