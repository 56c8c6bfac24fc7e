#!/usr/bin/env bash
# RobotLab's two entry points. Both set up everything they need first.
#   ./dev.sh lab    JupyterLab on the welcome notebook, with the simulator
#   ./dev.sh test   every test
#   ./dev.sh bench  the benchmarks in bench/ (also installs the baselines)
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

# setup [test]: the venv with RobotLab and its test tools; with "test" also Chromium
# (the browser tests and the live view benchmark).
setup() {
    if [ ! -x "$PY" ]; then
        python3 -m venv "$VENV"
    fi
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -e ".[test]"
    if [ -f robotlab/server.py ]; then
        # The live view's server extension. An editable install leaves out pyproject's
        # data-files, and `enable` only accepts an extension that a config file already names.
        mkdir -p "$VENV/etc/jupyter/jupyter_server_config.d"
        cp jupyter-config/jupyter_server_config.d/robotlab.json \
            "$VENV/etc/jupyter/jupyter_server_config.d/"
        "$VENV/bin/jupyter" server extension enable --sys-prefix robotlab.server >/dev/null
    fi
    if [ "${1:-}" = test ]; then
        need_chromium
        need_node
        # configurable-http-proxy for the hub tests (tests/deploy/), from npm.
        npm install --prefix deploy/node --no-audit --no-fund --silent
    fi
}

# The browser tests (tests/browser/) drive Debian's Chromium at /usr/bin/chromium.
need_chromium() {
    [ -x /usr/bin/chromium ] && return
    if [ "$(id -u)" != 0 ]; then
        echo "The browser tests need Chromium: install the Debian package chromium" \
             "(sudo apt-get install chromium)." >&2
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium 2>/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
        || echo "Could not install chromium; the browser tests will fail." >&2
}

# Node, npm and make: the hub tests run configurable-http-proxy, and the firmware tests build the micro:bit .hex with MakeCode's CLI from npm
# (tests/firmware/ runs `make -C firmware/microbit ...`, which installs its npm packages).
need_node() {
    command -v node >/dev/null && command -v npm >/dev/null && command -v make >/dev/null && return
    if [ "$(id -u)" != 0 ]; then
        echo "The firmware tests need Node: sudo apt-get install nodejs npm make" >&2
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends nodejs npm make 2>/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm make; } \
        || echo "Could not install nodejs, npm and make; the firmware tests will fail." >&2
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
        setup test
        shift
        exec "$PY" -m pytest "$@"
        ;;
    bench)
        setup test      # the live view's benchmark runs in Chromium too
        shift
        exec bash bench/run.sh "$@"
        ;;
    *)
        echo "usage: ./dev.sh lab | test | bench" >&2
        exit 2
        ;;
esac
