#!/usr/bin/env bash
# RobotLab's two entry points. Both set up everything they need first.
#   ./dev.sh lab    JupyterLab on the welcome notebook, with the simulator
#   ./dev.sh test   every test
#   ./dev.sh bench  the benchmarks in bench/ (also installs the baselines)
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

setup() {
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".[test]"
}

case "${1:-}" in
    lab)
        setup
        args=(--ServerApp.ip=127.0.0.1 --ServerApp.port="${PORT:-8888}")
        [ "$(id -u)" = 0 ] && args+=(--allow-root)
        [ -z "${DISPLAY:-}" ] && args+=(--no-browser)
        exec "$VENV/bin/jupyter" lab "${args[@]}" notebooks/velkommen.ipynb
        ;;
    test)
        setup
        shift
        exec "$PY" -m pytest "$@"
        ;;
    bench)
        setup
        shift
        exec bash bench/run.sh "$@"
        ;;
    *)
        echo "usage: ./dev.sh lab | test | bench" >&2
        exit 2
        ;;
esac
