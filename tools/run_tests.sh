#!/usr/bin/env bash
# The test command: set up the environment if needed, then run the suite.
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
source "$ROOT/tools/_python.sh"
cd "$ROOT"
exec "$PYTHON" -m pytest "$@"
