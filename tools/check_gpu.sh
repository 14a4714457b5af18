#!/usr/bin/env bash
# After set-up on a GPU machine: mmcv's CUDA ops, every algorithm on the GPU
# (loss against the CPU, a few steps with and without AMP) and a Faster
# R-CNN from a shipped config (tests/test_gpu, pytest marker "gpu").
#   bash tools/check_gpu.sh [pytest args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
source "$ROOT/tools/_python.sh"
cd "$ROOT"
if ! "$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "[check_gpu] torch sees no CUDA GPU here: nothing to check" >&2
    exit 1
fi
"$PYTHON" -c "import torch, mmcv, mmcv.ops as o; print('[check_gpu] torch', torch.__version__, 'CUDA', torch.version.cuda, '|', torch.cuda.get_device_name(), '| mmcv', mmcv.__version__, 'ops CUDA', o.get_compiling_cuda_version())"
exec "$PYTHON" -m pytest -m gpu tests/test_gpu -v "$@"
