#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: builds the CUDA backend (build-gpu.sh)
# and runs the chat and transcription benchmarks on it, printing the device,
# decode tokens/s, the transcription's real-time factor, and the GPU memory
# the runs peaked at (nvidia-smi, sampled every 200 ms).
#
# The CPU references (llama-bench, whisper-cli) are CPU builds: on a GPU
# machine they are left out, and the ratios printed are to the CPU run of
# the same benchmark (LLMAAS_FORCE_CPU=1) in the same session.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi finds none)" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d .)}
python3 scripts/provision-models.py --kind bench
unset LLAMA_CPP_BENCH WHISPER_CLI LLMAAS_REQUIRE_REFERENCES

samples=$(mktemp)
( while sleep 0.2; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1 >>"$samples"; done ) &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
echo "== on the GPU"
LOCAL_BENCH_RUNS=${LOCAL_BENCH_RUNS:-3} bash scripts/build-gpu.sh --run-bench
kill $sampler 2>/dev/null || true; wait $sampler 2>/dev/null || true
echo "gpu-check: GPU memory peak $(sort -n "$samples" | tail -1) MiB"
echo "== the same benchmarks forced onto the CPU, for the ratio"
LLMAAS_FORCE_CPU=1 LOCAL_BENCH_RUNS=${LOCAL_BENCH_RUNS:-3} bash scripts/build-gpu.sh --run-bench
