# Sourced by the launch scripts: the Python to use. $PYTHON wins; otherwise
# the project environment made by tools/setup_env.sh, if there is one.
_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${PYTHON:-}" ]; then
    if [ -x "${BSIM_VENV:-$_ROOT/.venv}/bin/python" ]; then
        PYTHON=${BSIM_VENV:-$_ROOT/.venv}/bin/python
    else
        PYTHON=python
    fi
fi
export PYTHONPATH="$_ROOT:${PYTHONPATH:-}"
