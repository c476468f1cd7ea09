"""Build llama-server on the user's GPU server, from the llama.cpp source pinned with
llama-cpp-python (the same llama.cpp Bunko runs here): with CUDA when nvcc is there.

The same steps as packaging/build_llama_server.sh, run detached on the host (a build takes
minutes and must survive a dropped link); its output lines come back as progress.
"""

from __future__ import annotations

import posixpath
import time

from ...errors import EndpointError
from ...hosts.hosts import quote

VERSION = "0.3.36"
# sha256 of llama_cpp_python-0.3.36.tar.gz as PyPI serves it (the same in packaging/build_llama_server.sh):
# the server builds only this archive, whatever an index or a proxy there hands out
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"

SCRIPT = r"""set -eu
cd "$1"
python3 -m pip download --no-deps --no-binary :all: "llama-cpp-python==$2" -d . >/dev/null
python3 -c 'import hashlib, sys; sys.exit(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest() != sys.argv[2])' \
  "llama_cpp_python-$2.tar.gz" "$3" || { echo BUNKO_BUILD_BAD_HASH; exit 3; }
tar -xzf "llama_cpp_python-$2.tar.gz" "llama_cpp_python-$2/vendor/llama.cpp"
gpu=OFF
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then gpu=ON; PATH="$PATH:/usr/local/cuda/bin"; fi
echo "building llama-server (CUDA $gpu)"
# no AMX kernels: they crash on some cloud Xeons (packaging/build_llama_server.sh says more)
flags=""
case "$(uname -m)" in x86_64|amd64) flags="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" ;; esac
cmake -S "llama_cpp_python-$2/vendor/llama.cpp" -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
  -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
  -DBUILD_SHARED_LIBS=OFF -DGGML_CUDA=$gpu "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags" >/dev/null
cmake --build build --target llama-server -j "$(nproc)"
mkdir -p ../bin && cp build/bin/llama-server ../bin/llama-server.part && mv ../bin/llama-server.part ../bin/llama-server
echo BUNKO_BUILD_OK
"""


def build(host, folder: str, say, cancel=None, limit_s: float = 3 * 3600) -> str:
    """Build into <folder>/bin/llama-server on `host`; returns its path."""
    src = posixpath.join(folder, "src")
    host.run(f"rm -rf {quote(src)} && mkdir -p {quote(src)}")
    script = posixpath.join(src, "build.sh")
    host.write_text(script, SCRIPT)
    say("building llama-server on the server (once; about 10 minutes)…")
    pid = host.start(["bash", script, src, VERSION, SDIST_SHA256], src, "build.log")
    log_path, offset, end = posixpath.join(src, "build.log"), 0, time.monotonic() + limit_s
    text = ""
    while time.monotonic() < end:
        if cancel is not None and cancel.cancelled:
            host.run(f"kill -TERM -- -{int(pid)} 2>/dev/null; true")
            cancel.raise_if_cancelled()
        chunk = host.read_from(log_path, offset)
        offset += len(chunk)
        text = (text + chunk.decode("utf-8", "replace"))[-4000:]
        for line in chunk.decode("utf-8", "replace").splitlines():
            if line.strip():
                say(line.strip()[:200])
        if "BUNKO_BUILD_OK" in text:
            return posixpath.join(folder, "bin", "llama-server")
        if "BUNKO_BUILD_BAD_HASH" in text:
            raise EndpointError(f"The llama-cpp-python {VERSION} source the server downloaded is not the published "
                                "one (its sha256 differs), so it was not built. Check the server's pip index or "
                                "proxy, or name a llama-server that is there already.")
        if host.run(f"kill -0 {int(pid)} 2>/dev/null").code != 0:
            tail = "\n".join(text.strip().splitlines()[-6:])
            raise EndpointError("Building llama-server on the server failed (it needs the internet once, "
                                "CMake and a C++ compiler; or name a llama-server that is there already). "
                                f"The build's log ends with:\n{tail}")
        time.sleep(2)
    raise EndpointError("Building llama-server on the server took too long; it was left running there.")
