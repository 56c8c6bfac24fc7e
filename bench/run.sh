#!/usr/bin/env bash
# RobotLab's benchmarks; `./dev.sh bench` runs this after setting up .venv.
#   bash bench/run.sh            everything: simulator speed beside aitk.robots, start-up, Bluetooth link,
#                                live view bandwidth, autograding a class
#   bash bench/run.sh sim [...]  only bench/sim_speed.py (extra arguments go to it)
#   bash bench/run.sh startup    only bench/startup.py
#   bash bench/run.sh ble [...]  only bench/ble_link.py (virtual radio; extra arguments go to it)
#   bash bench/run.sh view [...] only bench/view_bandwidth.py (real JupyterLab and Chromium at
#                                /usr/bin/chromium; extra arguments go to it)
#   bash bench/run.sh relay [...]  only bench/relay_latency.py (the latency the browser relay adds:
#                                a real JupyterLab and kernel, a Python tab, a virtual robot)
#   bash bench/run.sh grading [...]  only bench/grading_speed.py (nbgrader autograde, 30 pupils,
#                                robot checks beside `assert True`; extra arguments go to it)
#   bash bench/run.sh lessons [...]  only bench/lesson_runtime.py (each lesson notebook headless)
#   bash bench/run.sh hub [...]  only bench/hub_load.py (30 pupils log in to a real JupyterHub at
#                                once and run lesson 1's first cell; root; not in `all`)
# The baseline, aitk.robots 2.0.0, lives in its own venv, .venv-bench (gitignored),
# made here when it is missing or lacks the pinned version. aitk.robots pulls in
# aitk and with it TensorFlow (a large download, once); neither benchmark imports it.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
BENCH_VENV=.venv-bench
BENCH_PY="$BENCH_VENV/bin/python"
# aitk.robots 2.0.0 as the issue names it; aitk (its only dependency, unpinned
# upstream) pinned to the release it was measured with.
AITK_PINS=("aitk.robots==2.0.0" "aitk==3.1.0")

if [ ! -x "$PY" ]; then
    echo "bench/run.sh: $PY is missing; run ./dev.sh bench" >&2
    exit 2
fi

baseline_ready() {
    [ -x "$BENCH_PY" ] && "$BENCH_PY" - <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("aitk.robots"), version("aitk")) == ("2.0.0", "3.1.0") else 1)
EOF
}

setup_baseline() {
    if baseline_ready; then
        return
    fi
    echo "Setting up $BENCH_VENV with ${AITK_PINS[*]} (first run only) ..." >&2
    if [ ! -x "$BENCH_PY" ]; then
        python3 -m venv "$BENCH_VENV"
    fi
    "$BENCH_PY" -m pip install --quiet --upgrade pip
    "$BENCH_PY" -m pip install --quiet "${AITK_PINS[@]}"
    baseline_ready || { echo "bench/run.sh: aitk.robots did not install into $BENCH_VENV" >&2; exit 1; }
}

what="${1:-all}"
[ $# -gt 0 ] && shift
case "$what" in
    all)
        setup_baseline
        status=0
        "$PY" bench/sim_speed.py --aitk-python "$BENCH_PY" || status=$?
        echo
        "$PY" bench/startup.py || status=$?
        echo
        "$PY" bench/ble_link.py || status=$?
        echo
        "$PY" bench/view_bandwidth.py || status=$?
        echo
        "$PY" bench/relay_latency.py || status=$?
        echo
        "$PY" bench/relay_latency.py --robot lego || status=$?
        echo
        "$PY" bench/grading_speed.py || status=$?
        echo
        "$PY" bench/lesson_runtime.py || status=$?
        exit "$status"
        ;;
    sim)
        setup_baseline
        exec "$PY" bench/sim_speed.py --aitk-python "$BENCH_PY" "$@"
        ;;
    startup)
        exec "$PY" bench/startup.py "$@"
        ;;
    ble)
        exec "$PY" bench/ble_link.py "$@"
        ;;
    view)
        exec "$PY" bench/view_bandwidth.py "$@"
        ;;
    relay)
        exec "$PY" bench/relay_latency.py "$@"
        ;;
    grading)
        exec "$PY" bench/grading_speed.py "$@"
        ;;
    lessons)
        exec "$PY" bench/lesson_runtime.py "$@"
        ;;
    hub)
        exec "$PY" bench/hub_load.py "$@"
        ;;
    *)
        echo "usage: ./dev.sh bench [all | sim [sim_speed.py options] | startup | ble [ble_link.py options]" \
             "| view [view_bandwidth.py options] | relay [relay_latency.py options] | grading [grading_speed.py options] | lessons | hub [hub_load.py options]]" >&2
        exit 2
        ;;
esac
