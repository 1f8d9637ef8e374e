#!/bin/sh
# Benchmark suite entry point (see bench/README.md).
echo "bench: the benchmark suite is not written yet (issue: Benchmarks)" >&2
exit 0
