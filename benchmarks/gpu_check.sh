#!/usr/bin/env bash
# One command for a CUDA machine: the precision chosen, train-step images/s (auto vs float32, XLA on/off,
# mirrored over all GPUs) and SavedModel generation latency. Without a GPU it says so and exits 0.
# Output format: see the docstring of benchmarks/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python benchmarks/gpu_check.py "$@"
