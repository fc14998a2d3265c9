"""Operator scripts: deploy tooling, the local stack and benchmarks (`python -m scripts.<name>`)."""
