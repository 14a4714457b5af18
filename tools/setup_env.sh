#!/usr/bin/env bash
# Create or refresh the project's environment (idempotent).
#
#   bash tools/setup_env.sh          # quiet when everything is in place
#
# Installs into $BSIM_VENV (default: .venv in the repository):
#   torch 2.13.0 + torchvision 0.28.0  a matching pair; mmcv 2.1.0's ops
#                                      compile against torch 2.13 headers as
#                                      released (torch 2.14 needs C++20, which
#                                      mmcv 2.1.0's setup.py does not ask for)
#   mmcv 2.1.0 with ops                mmdet 3.3 refuses mmcv >= 2.2; no wheel
#                                      exists for this torch, so it is built
#                                      from source once (CUDA ops where torch
#                                      sees a GPU or BSIM_MMCV_OPS=cuda, with
#                                      nvcc installed from NVIDIA's wheels if
#                                      missing; else CPU ops) and the wheel is
#                                      kept in $BSIM_CACHE_DIR per torch,
#                                      CUDA release and architectures
#   mmengine 0.10.7, mmpretrain 1.2.0, mmdet 3.3.0
#   setuptools 80.9.0                  mmengine and mmcv's setup.py import
#                                      pkg_resources (gone in setuptools 84)
#   opencv-python 4.x                  mmcv 2.1 predates OpenCV 5
#   bsim_plugin (editable), pytest
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${BSIM_VENV:-$ROOT/.venv}
BOOT_PYTHON=${BSIM_PYTHON:-python3}
CACHE=${BSIM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bsim_plugin}

TORCH=2.13.0
TORCHVISION=0.28.0
MMCV=2.1.0
# faiss-cpu is the optional extra ([faiss] in setup.cfg) for nearest
# neighbours and k-means; the test environment has it so that both the faiss
# and the torch paths are tested.
PINS=(setuptools==80.9.0 wheel ninja numpy==2.4.6 opencv-python==4.14.0.94
      mmengine==0.10.7 mmpretrain==1.2.0 mmdet==3.3.0 pytest faiss-cpu==1.15.1)

say() { echo "[setup_env] $*"; }

PY=$VENV/bin/python
STAMP=$VENV/.bsim_env_stamp
STAMP_WANT=$(cat "${BASH_SOURCE[0]}" "$ROOT/setup.cfg" | sha256sum | cut -c1-16)

check_all() {
    "$PY" - <<'EOF' 2>/dev/null
import os
import mmcv, mmcv.ops, mmdet, mmengine, mmpretrain, torch, torchvision
import bsim_plugin
assert mmcv.__version__ == '2.1.0'
ops = os.environ.get('BSIM_MMCV_OPS', '')
if ops == 'cuda' or (ops != 'cpu' and torch.cuda.is_available()):
    # A GPU machine needs mmcv's CUDA ops, not a CPU-only build.
    from mmcv.ops import get_compiling_cuda_version
    assert get_compiling_cuda_version() != 'not available'
EOF
}

if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_WANT" ] \
        && check_all; then
    exit 0
fi

start=$(date +%s)
if [ ! -x "$PY" ]; then
    say "creating virtual environment $VENV"
    "$BOOT_PYTHON" -m venv "$VENV"
fi
PIP=("$PY" -m pip --disable-pip-version-check)
# pip, minus the warnings some machines' configuration causes about local
# index folders that lack a package (they change nothing).
pip_q() {
    "${PIP[@]}" "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

# torch: the CUDA wheels from PyPI (they run on machines without a GPU too;
# torchvision's operators do not load with the CPU-only torch wheel).
# --isolated ignores local pip configuration, which on some machines adds a
# find-links folder whose torch-2.13.0+cpu would win over the CUDA wheel.
if ! "$PY" -c "import torch, torchvision, torchvision.ops as o, sys
ok = torch.__version__.split('+')[0] == '$TORCH' and \
    torchvision.__version__.split('+')[0] == '$TORCHVISION' and \
    torch.version.cuda is not None
o.nms(torch.zeros(1, 4), torch.ones(1), 0.5)
sys.exit(0 if ok else 1)" 2>/dev/null; then
    say "installing torch==$TORCH torchvision==$TORCHVISION (about 5 GB, a few minutes)"
    pip_q --isolated install -q "torch==$TORCH" "torchvision==$TORCHVISION"
fi

say "installing pinned packages: ${PINS[*]}"
pip_q install -q "${PINS[@]}"

# mmcv with compiled ops: CUDA ops where torch sees a GPU (or with
# BSIM_MMCV_OPS=cuda, e.g. to build on a machine without one), CPU ops
# otherwise (BSIM_MMCV_OPS=cpu forces them). For CUDA ops without a CUDA
# toolkit of torch's release, tools/cuda_toolchain.py installs NVIDIA's
# compiler wheels and lays out a CUDA_HOME in the cache; it stops with what
# to install when it cannot. Never a silent CPU-only build on a GPU machine.
FLAVOR=$("$PY" "$ROOT/tools/cuda_toolchain.py" flavor)
if [ "$FLAVOR" = cuda ]; then
    CUDA_REL=$("$PY" -c "import torch; print(torch.version.cuda)")
    ARCHS=$("$PY" "$ROOT/tools/cuda_toolchain.py" arch-list)
    CUDA_HOME=$("$PY" "$ROOT/tools/cuda_toolchain.py" cuda-home "$CACHE/cuda-$CUDA_REL")
    export CUDA_HOME TORCH_CUDA_ARCH_LIST="$ARCHS" PATH="$CUDA_HOME/bin:$PATH"
    say "mmcv CUDA ops: CUDA $CUDA_REL (CUDA_HOME=$CUDA_HOME), architectures $ARCHS"
    FORCE_CUDA=1
    WHEEL_DIR=$CACHE/wheels/mmcv-$MMCV-torch$TORCH-cu$CUDA_REL-sm$(echo -n "$ARCHS" | tr -c '0-9a-zA-Z' '_')
    OPS_CHECK="from mmcv.ops import get_compiling_cuda_version as v; assert v() != 'not available'"
else
    FORCE_CUDA=0
    WHEEL_DIR=$CACHE/wheels/mmcv-$MMCV-torch$TORCH-cpu
    OPS_CHECK="pass"
fi
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV'; $OPS_CHECK" 2>/dev/null; then
    wheel=$(ls "$WHEEL_DIR"/mmcv-"$MMCV"-*.whl 2>/dev/null | head -n 1 || true)
    if [ -z "$wheel" ]; then
        mkdir -p "$WHEEL_DIR" "$CACHE/build"
        build_tmp=$(mktemp -d "$CACHE/build/tmp.XXXXXX")
        log=$CACHE/build/mmcv-$MMCV-$FLAVOR.log
        say "building mmcv $MMCV with $FLAVOR ops from source: this is LONG"
        say "(10-35 minutes on 2 cores; done once, the wheel is kept in $WHEEL_DIR)"
        say "log: $log"
        TMPDIR=$build_tmp MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA \
            MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-cache-dir \
            -w "$build_tmp/out" "mmcv==$MMCV" >"$log" 2>&1 &
        pid=$!
        t0=$(date +%s)
        while kill -0 "$pid" 2>/dev/null; do
            sleep 30
            done_n=$(find "$build_tmp" -name '*.o' 2>/dev/null | wc -l)
            src=$(ls -d "$build_tmp"/pip-wheel-*/mmcv*/mmcv/ops/csrc/pytorch 2>/dev/null | head -n 1 || true)
            total='?'
            if [ -n "$src" ]; then
                if [ "$FLAVOR" = cuda ]; then
                    total=$(ls "$src"/*.cpp "$src"/cpu/*.cpp "$src"/cuda/*.cu "$src"/cuda/*.cpp 2>/dev/null | wc -l)
                else
                    total=$(ls "$src"/*.cpp "$src"/cpu/*.cpp 2>/dev/null | wc -l)
                fi
            fi
            say "mmcv build: $(( ($(date +%s) - t0) / 60 ))m$(( ($(date +%s) - t0) % 60 ))s, $done_n/$total sources compiled"
        done
        if ! wait "$pid"; then
            tail -n 30 "$log"
            say "mmcv build FAILED; full log: $log"
            exit 1
        fi
        mv "$build_tmp"/out/mmcv-"$MMCV"-*.whl "$WHEEL_DIR"/
        rm -rf "$build_tmp"
        wheel=$(ls "$WHEEL_DIR"/mmcv-"$MMCV"-*.whl | head -n 1)
        say "mmcv built in $(( ($(date +%s) - t0) / 60 )) min: $wheel"
    else
        say "using kept mmcv wheel $wheel"
    fi
    pip_q install -q --no-deps --force-reinstall "$wheel"
    pip_q install -q addict packaging Pillow pyyaml yapf
fi

say "installing bsim_plugin (editable)"
pip_q install -q --no-deps --no-build-isolation -e "$ROOT"

if ! check_all; then
    say "the environment does not import; run: $PY -c 'import mmcv.ops, mmdet, mmpretrain, bsim_plugin'"
    exit 1
fi
echo "$STAMP_WANT" >"$STAMP"
say "environment ready in $(( $(date +%s) - start ))s: $VENV"
