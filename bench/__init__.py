"""Benchmarks: each prints ratios against a raw limit measured in the same run (`python -m bench.<name>`)."""
