#!/usr/bin/env bash
# Builds the programs the benchmarks compare us with, on this machine, from
# registry sources (pinned, checksums checked), into
# ~/.cache/llmaas-desktop/tools; skipped when they are there already.
#
# - llama.cpp's llama-bench: from the llama-cpp-python sdist on PyPI, which
#   vendors llama.cpp (the local_chat benchmark's reference).
# - whisper.cpp's whisper-cli: from the pywhispercpp sdist on PyPI, which
#   vendors whisper.cpp with its examples (the transcribe benchmark's
#   reference). It is whisper.cpp 1.8.5; whisper-rs 0.16 vendors 1.8.3 and
#   its crate ships no CLI, so the versions differ by two patch releases.
#
# Both are built for this CPU (GGML_NATIVE), CPU backend only, as users of
# Ollama or LM Studio get them. Prints the two paths as KEY=VALUE lines.
# About 6 minutes on 2 cores the first time.
set -euo pipefail

tools=${LLMAAS_TOOLS:-$HOME/.cache/llmaas-desktop/tools}
jobs=${JOBS:-$(nproc)}
mkdir -p "$tools"

# name url sha256: the sdist, downloaded once and checked.
fetch_sdist() {
  local name=$1 url=$2 sha=$3 out="$tools/$1.tar.gz"
  if [ ! -f "$out" ] || ! echo "$sha  $out" | sha256sum -c --status; then
    echo "build-references: downloading $name" >&2
    curl -fsSL --retry 3 -o "$out.part" "$url"
    echo "$sha  $out.part" | sha256sum -c --status || {
      echo "build-references: $name: checksum mismatch" >&2
      rm -f "$out.part"
      exit 1
    }
    mv "$out.part" "$out"
  fi
  echo "$out"
}

cmake_build() { # source build-dir target...
  local src=$1 dir=$2
  shift 2
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DGGML_NATIVE=ON "${CMAKE_EXTRA[@]}" >/dev/null
  cmake --build "$dir" --target "$@" -j "$jobs" >/dev/null
}

llama_version=0.3.36
llama_dir="$tools/llama.cpp-python-$llama_version"
llama_bench="$llama_dir/build/bin/llama-bench"
# ggml's AMX matmul (compiled in by -march=native on Sapphire Rapids and
# later) crashes this llama.cpp with SIGSEGV on SmolLM2's prompt (seen here on
# an AMX Xeon VM, in ggml_backend_amx_mul_mat). GCC lets an explicit -mno-*
# win over -march=native whatever the order, so the rest stays native. Our
# engine (candle) has no AMX path either. The flags are stamped beside the
# binary: a binary built with other flags is rebuilt.
llama_flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
if [ ! -x "$llama_bench" ] || [ "$(cat "$llama_dir/build/flags" 2>/dev/null)" != "$llama_flags" ]; then
  tarball=$(fetch_sdist llama-cpp-python-$llama_version \
    https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-0.3.36.tar.gz \
    832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e)
  rm -rf "$llama_dir" && mkdir -p "$llama_dir"
  tar xzf "$tarball" -C "$llama_dir" --strip-components=1 "llama_cpp_python-$llama_version/vendor/llama.cpp"
  echo "build-references: building llama-bench (about 4 minutes)" >&2
  CMAKE_EXTRA=(-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
    "-DCMAKE_C_FLAGS=$llama_flags" "-DCMAKE_CXX_FLAGS=$llama_flags")
  cmake_build "$llama_dir/vendor/llama.cpp" "$llama_dir/build" llama-bench
  # The binary is all that is kept, with the flags it was built with.
  find "$llama_dir/build" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} +
  printf '%s' "$llama_flags" > "$llama_dir/build/flags"
fi

whisper_version=1.5.1
whisper_dir="$tools/pywhispercpp-$whisper_version"
whisper_cli="$whisper_dir/build/bin/whisper-cli"
if [ ! -x "$whisper_cli" ]; then
  tarball=$(fetch_sdist pywhispercpp-$whisper_version \
    https://files.pythonhosted.org/packages/9f/35/610787a277e177e6b7983277a35a2969c0876b46c0d889bc6a0c4b4ac4a7/pywhispercpp-1.5.1.tar.gz \
    5df897e5dd9d9f16804fc937bd85b9f5880a0b29a55f8843585e0e03d76195e5)
  rm -rf "$whisper_dir" && mkdir -p "$whisper_dir"
  tar xzf "$tarball" -C "$whisper_dir" --strip-components=1 "pywhispercpp-$whisper_version/whisper.cpp"
  echo "build-references: building whisper-cli (about 2 minutes)" >&2
  CMAKE_EXTRA=(-DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_SDL2=OFF -DWHISPER_CURL=OFF)
  cmake_build "$whisper_dir/whisper.cpp" "$whisper_dir/build" whisper-cli
  find "$whisper_dir/build" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} +
fi

echo "LLAMA_CPP_BENCH=$llama_bench"
echo "WHISPER_CLI=$whisper_cli"
