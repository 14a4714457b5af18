#!/usr/bin/env bash
# The main job: set up the environment and the data if needed, then run the
# BSIM-SimCLR Fashion-MNIST demo on the CPU.
#   bash tools/run_demo.sh [demo.py args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
# Fashion-MNIST from Debian's package when it can be installed here;
# tools/demo.py also looks in data/fashion_mnist and tries a download.
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ ! -d "$ROOT/data/fashion_mnist" ] \
        && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[run_demo] installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
    if ! apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; then
        apt-get update -q >/dev/null 2>&1 || true
        apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
            echo "[run_demo] could not install dataset-fashion-mnist"
    fi
fi
source "$ROOT/tools/_python.sh"
cd "$ROOT"
exec "$PYTHON" tools/demo.py "$@"
