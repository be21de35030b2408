#!/usr/bin/env bash
# Builds the CUDA backend (`--features cuda`: mistral.rs's candle kernels and
# whisper.cpp's ggml-cuda) with the CUDA toolkit from PyPI wheels, on a
# machine with no GPU and no system CUDA. Not part of every test run (it
# takes the better part of an hour on 2 cores); scripts/gpu-check.sh runs it
# and then the benchmarks on a GPU machine.
#
#   scripts/build-gpu.sh            the CLI (`llmaas`) with CUDA
#   scripts/build-gpu.sh --bench    and the chat and transcription benchmarks
#   scripts/build-gpu.sh --run-bench  and run them (a GPU machine: gpu-check.sh)
#   scripts/build-gpu.sh --toolkit  only unpack the toolkit (downloads ~680 MB)
#
# Why these versions: PyPI's `-cu12` nvcc wheels hold only ptxas (no nvcc,
# cicc or fatbinary); the unsuffixed CUDA 13 wheels are the whole compiler,
# all unpacked into one tree (nvidia/cu13) that is CUDA_HOME as it is. 13.0
# is pinned, not the newest: candle's kernels are PTX that the driver
# compiles at start, so the toolkit must not be newer than the driver (the
# machines we run on have a 13.0 driver), and mistralrs-quant's build script
# refuses an nvcc above 13.2.
#
# No wheel ships the driver's libcuda.so, which cudarc and whisper-rs-sys
# link against: a stub with every `cu*` function of cuda.h is built for the
# link (soname libcuda.so.1, so the real driver is what loads at run time).
#
# Environment: CUDA_COMPUTE_CAP (default 90, H100/H200; one value),
# CMAKE_CUDA_ARCHITECTURES (default ${CUDA_COMPUTE_CAP}-real),
# LLMAAS_GPU_PROFILE (release by default; `dev` compiles faster and still
# optimises every dependency, see Cargo.toml), LLMAAS_CUDA_HOME (where the
# toolkit is unpacked), CARGO_TARGET_DIR (the
# GPU build gets its own `-gpu` folder beside it: other features, other
# artefacts).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLKIT=${LLMAAS_CUDA_HOME:-$HOME/.cache/llmaas-desktop/cuda-13.0}
CU=$TOOLKIT/nvidia/cu13
WHEELS=(
  nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96 nvidia-cuda-cccl==13.0.85 nvidia-cuda-nvrtc==13.0.88
  nvidia-curand==10.4.0.35 nvidia-cublas==13.1.0.3 nvidia-cuda-culibos==13.0.85
)

install_toolkit() {
  echo "build-gpu: unpacking the CUDA 13.0 toolkit from PyPI into $TOOLKIT"
  mkdir -p "$TOOLKIT/wheels"
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    -d "$TOOLKIT/wheels" "${WHEELS[@]}"
  for w in "$TOOLKIT"/wheels/*.whl; do
    python3 - "$w" "$TOOLKIT" <<'PY'
import os, stat, sys, zipfile
wheel, into = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith("nvidia/"):
            continue
        path = z.extract(info, into)
        mode = info.external_attr >> 16
        if mode & stat.S_IXUSR:  # nvcc, cicc, ptxas… keep their execute bit
            os.chmod(path, os.stat(path).st_mode | 0o111)
PY
  done
  # The linkers look for unversioned names, and some build scripts in lib64.
  (cd "$CU/lib" && for f in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13; do
    ln -sf "$f" "${f%%.so.*}.so"
  done)
  ln -sfn lib "$CU/lib64"
  # The driver stub: every driver function cuda.h declares.
  mkdir -p "$CU/lib/stubs"
  {
    echo '#include <cuda.h>' | gcc -E -P -I"$CU/include" -x c - |
      grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d ' ('
    printf '%s\n' cuProfilerInitialize cuProfilerStart cuProfilerStop
  } | sort -u | sed 's/.*/int &(void) { return 999; }/' >"$TOOLKIT/libcuda_stub.c"
  gcc -shared -fPIC -w -Wl,-soname,libcuda.so.1 -o "$CU/lib/stubs/libcuda.so" "$TOOLKIT/libcuda_stub.c"
  "$CU/bin/nvcc" --version | tail -2
  touch "$CU/.ready"
}

[ -f "$CU/.ready" ] || install_toolkit
[ "${1:-}" = "--toolkit" ] && exit 0

export CUDA_HOME=$CU CUDA_PATH=$CU CUDA_ROOT=$CU CUDAToolkit_ROOT=$CU
export NVCC=$CU/bin/nvcc CUDACXX=$CU/bin/nvcc CMAKE_CUDA_COMPILER=$CU/bin/nvcc
export PATH=$CU/bin:$PATH
export LIBRARY_PATH=$CU/lib:$CU/lib/stubs${LIBRARY_PATH:+:$LIBRARY_PATH}
export LD_LIBRARY_PATH=$CU/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# No GPU here to ask (nvidia-smi): the architecture is said.
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-90}
export CMAKE_CUDA_ARCHITECTURES=${CMAKE_CUDA_ARCHITECTURES:-${CUDA_COMPUTE_CAP}-real}
export CUDARC_CUDA_VERSION=13000
export CUDAFORGE_THREADS=${CUDAFORGE_THREADS:-$(nproc)}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/llmaas-desktop/target}-gpu

PROFILE=${LLMAAS_GPU_PROFILE:-release}
OUT_DIR=$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")
started=$(date +%s)
echo "build-gpu: toolkit $("$NVCC" --version | grep -o 'V[0-9.]*'), sm_${CUDA_COMPUTE_CAP}, target $CARGO_TARGET_DIR"
cargo build --profile "$PROFILE" --locked -p llmaas-cli --features cuda
case "${1:-}" in
  --bench) cargo bench --locked -p llmaas-local --features cuda --no-run ;;
  --run-bench) cargo bench --locked -p llmaas-local --features cuda --bench local_chat --bench transcribe ;;
esac
echo "build-gpu: built in $(( $(date +%s) - started )) s: $CARGO_TARGET_DIR/$OUT_DIR/llmaas"
