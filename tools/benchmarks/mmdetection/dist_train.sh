#!/usr/bin/env bash
# Fine-tune an mmdet transfer config on GPUS processes of this node:
#   bash tools/benchmarks/mmdetection/dist_train.sh CONFIG BACKBONE GPUS --work-dir DIR [options]
set -euo pipefail
CONFIG=$1
BACKBONE=$2
GPUS=$3
PORT=${PORT:-29500}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
PYTHON=${PYTHON:-$([ -x "$ROOT/.venv/bin/python" ] && echo "$ROOT/.venv/bin/python" || echo python)}
PYTHONPATH="$ROOT:${PYTHONPATH:-}" "$PYTHON" -m torch.distributed.run \
    --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$ROOT/tools/benchmarks/mmdetection/train.py" "$CONFIG" "$BACKBONE" \
    --launcher pytorch "${@:4}"
