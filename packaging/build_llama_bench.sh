#!/usr/bin/env bash
# Build llama.cpp's llama-bench from the source inside the pinned llama-cpp-python archive,
# so that `bunko bench chat` compares against the very llama.cpp that Bunko runs.
# Needs the network once (pip download) and CMake with a C++ compiler; about 5 minutes on 2 cores.
# Usage: packaging/build_llama_bench.sh [DEST]   (default: Bunko's data folder, tools/llama-bench)
set -euo pipefail
version=0.3.36
dest=${1:-$(python -c "from engine import paths; print(paths.data_dir() / 'tools')")}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pip download --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$work"
tar -xzf "$work"/llama_cpp_python-$version.tar.gz -C "$work"
src="$work/llama_cpp_python-$version/vendor/llama.cpp"
# llama.cpp's AMX kernels crash on some cloud Xeons (SIGSEGV at ldtilecfg in ggml_backend_amx_mul_mat),
# and a native build compiles them in on such a CPU: leave them out (an explicit -mno-* outranks
# -march=native whatever the order). Bunko's probe does the same for its own llama.cpp at run time.
noamx=()
case "$(uname -m)" in
  x86_64|amd64) flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
                noamx=("-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags") ;;
esac
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DBUILD_SHARED_LIBS=OFF "${noamx[@]}"
cmake --build "$work/build" --target llama-bench -j "$(nproc 2>/dev/null || echo 2)"
mkdir -p "$dest"
cp "$work/build/bin/llama-bench" "$dest/"
echo "built $dest/llama-bench"
