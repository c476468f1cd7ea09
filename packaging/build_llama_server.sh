#!/usr/bin/env bash
# Build llama.cpp's llama-server from the source inside the pinned llama-cpp-python archive,
# so that a model on a GPU server (or the tests) runs the very llama.cpp that Bunko runs locally.
# CUDA when nvcc is found (unless BUNKO_LLAMA_CPU=1), else CPU. Needs the network once
# (pip download) unless BUNKO_LLAMA_SDIST names the archive, and CMake with a C++ compiler.
# About 10 minutes on 2 cores. Skips the build when DEST already holds this version.
# Usage: packaging/build_llama_server.sh [DEST]
#   default DEST: ${XDG_CACHE_HOME:-~/.cache}/bunko/llama-server-0.3.36-{cpu,cuda}
set -euo pipefail
version=0.3.36
# sha256 of llama_cpp_python-0.3.36.tar.gz as PyPI serves it: a changed archive is never built
sdist_sha256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
flavour=cpu
if [ "${BUNKO_LLAMA_CPU:-0}" != 1 ] && command -v nvcc >/dev/null 2>&1; then flavour=cuda; fi
dest=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/bunko/llama-server-$version-$flavour}
if [ -x "$dest/llama-server" ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version-$flavour-noamx" ]; then
  echo "cached $dest/llama-server"; exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sdist=${BUNKO_LLAMA_SDIST:-}
if [ -z "$sdist" ]; then
  pip download --no-deps --no-binary :all: "llama-cpp-python==$version" -d "$work" >/dev/null
  sdist="$work/llama_cpp_python-$version.tar.gz"
fi
if [ "$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$sdist")" \
    != "$sdist_sha256" ]; then
  echo "refusing $sdist: its sha256 is not the pinned one of llama-cpp-python $version" >&2; exit 3
fi
tar -xzf "$sdist" -C "$work" "llama_cpp_python-$version/vendor/llama.cpp"
src="$work/llama_cpp_python-$version/vendor/llama.cpp"
gpu=-DGGML_CUDA=OFF
[ "$flavour" = cuda ] && gpu=-DGGML_CUDA=ON
# llama.cpp's AMX kernels crash on some cloud Xeons (SIGSEGV at ldtilecfg in ggml_backend_amx_mul_mat),
# and a native build compiles them in on such a CPU: leave them out (an explicit -mno-* outranks
# -march=native whatever the order). Bunko's probe does the same for its own llama.cpp at run time.
noamx=()
case "$(uname -m)" in
  x86_64|amd64) flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
                noamx=("-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags") ;;
esac
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
      -DBUILD_SHARED_LIBS=OFF "$gpu" "${noamx[@]}" >/dev/null
cmake --build "$work/build" --target llama-server -j "${BUNKO_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
mkdir -p "$dest"
cp "$work/build/bin/llama-server" "$dest/llama-server.tmp" && mv "$dest/llama-server.tmp" "$dest/llama-server"
echo "$version-$flavour-noamx" > "$dest/VERSION"
echo "built $dest/llama-server"
