"""Start-up cost for a pupil: ``import robotlab`` time and a pupil kernel's memory.

1. Import time. ``import robotlab`` timed inside a fresh interpreter (the
   clock starts after the interpreter is up), median of ``--runs``, beside
   ``import json`` timed the same way; and the whole process
   ``python -c "import robotlab"`` beside a bare ``python -c pass``. All runs
   are interleaved, after one discarded warm-up run each (bytecode caches).
   Goal: ``import robotlab`` < 0.5 s.
2. Kernel memory. A real Jupyter kernel (the project's ``python3`` kernel,
   started by nbclient, default pace, i.e. real time as in a classroom) runs a
   tiny in-memory notebook: read VmRSS from /proc/self/status (the baseline:
   the same kernel before RobotLab), then
   ``from robotlab import Robot; robot = Robot(); robot.forward(20)`` (after
   which RobotLab's cell hook shows the arena as a PNG, as for a pupil), then
   read VmRSS again. Median of ``--kernels`` kernels. Goal: < 150 MB.

Run with the project venv: ``.venv/bin/python bench/startup.py`` (or ``./dev.sh bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

IMPORT_GOAL_S = 0.5
RSS_GOAL_MB = 150.0
#: Modules a plain ``import robotlab`` must not load (they come with Robot()).
HEAVY = ("pygame", "numpy", "matplotlib", "IPython", "simulator", "PIL")

TIMED = ("import sys, time\nt = time.perf_counter()\n{stmt}\nt = time.perf_counter() - t\n"
         "print(t, ' '.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))))")


def clean_env() -> dict:
    env = dict(os.environ)
    for name in ("ROBOTLAB_PACE", "ROBOTLAB_SEED", "ROBOTLAB_ROBOT", "PYTHONSTARTUP",
                 "PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def timed_import(stmt: str, cwd: str) -> tuple[float, str]:
    code = TIMED.format(stmt=stmt, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=cwd, env=clean_env()).stdout.split(maxsplit=1)
    return float(out[0]), (out[1].strip() if len(out) > 1 else "")


def process_time(code: str, cwd: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=cwd, env=clean_env())
    return time.perf_counter() - t


def import_times(runs: int) -> dict:
    cwd = tempfile.gettempdir()      # not the repo: import what is installed, like a kernel
    samples = {"robotlab": [], "json": [], "proc robotlab": [], "proc bare": []}
    heavy = ""
    for i in range(runs + 1):
        t_robotlab, heavy = timed_import("import robotlab", cwd)
        t_json, _ = timed_import("import json", cwd)
        p_robotlab = process_time("import robotlab", cwd)
        p_bare = process_time("pass", cwd)
        if i:                        # the first round only warms the caches
            samples["robotlab"].append(t_robotlab)
            samples["json"].append(t_json)
            samples["proc robotlab"].append(p_robotlab)
            samples["proc bare"].append(p_bare)
    result = {k: statistics.median(v) for k, v in samples.items()}
    result["heavy"] = heavy
    return result


RSS_CELL = ("import re as _re, sys as _sys\n"
            "_status = open('/proc/self/status').read()\n"
            "print(int(_re.search(r'VmRSS:\\s+(\\d+) kB', _status)[1]),"
            " int(_re.search(r'VmHWM:\\s+(\\d+) kB', _status)[1]), _sys.executable)")
PUPIL_CELL = "from robotlab import Robot\nrobot = Robot()\nrobot.forward(20)"


def kernel_rss() -> dict:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(s) for s in (RSS_CELL, PUPIL_CELL, RSS_CELL)]
    with tempfile.TemporaryDirectory() as workdir:
        client = NotebookClient(notebook, timeout=180, kernel_name="python3",
                                resources={"metadata": {"path": workdir}})
        # A classroom kernel: real-time pace, a random seed (env goes to start_kernel).
        client.execute(env=clean_env())

    def read(cell) -> tuple[float, float, str]:
        text = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
        rss, hwm, executable = text.split(maxsplit=2)
        return int(rss) / 1024, int(hwm) / 1024, executable.strip()

    before, _, executable = read(notebook.cells[0])
    after, peak, _ = read(notebook.cells[2])
    pictures = sum("image/png" in o.get("data", {}) for o in notebook.cells[1].outputs)
    return {"before": before, "after": after, "peak": peak, "kernel": executable,
            "pictures": pictures}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="import timings (median)")
    parser.add_argument("--kernels", type=int, default=3, help="kernels started (median)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    imp = import_times(args.runs)
    kernels = [kernel_rss() for _ in range(args.kernels)]
    mem = {k: statistics.median(r[k] for r in kernels) for k in ("before", "after", "peak")}

    import_ok = imp["robotlab"] < IMPORT_GOAL_S and imp["proc robotlab"] < IMPORT_GOAL_S
    rss_ok = mem["after"] < RSS_GOAL_MB
    print(f"Start-up, median of {args.runs} fresh interpreters and {args.kernels} kernels "
          f"(baselines from the same run); Python {sys.version.split()[0]}")
    print(f"{'measure':<44} {'RobotLab':>10} {'baseline':>26} {'ratio':>7}  goal")
    print("-" * 118)
    print(f"{'import robotlab, in a fresh interpreter':<44} {imp['robotlab']:9.3f}s "
          f"{'import json ' + format(imp['json'], '.4f') + 's':>26} "
          f"{imp['robotlab'] / imp['json']:6.0f}x  < {IMPORT_GOAL_S} s: "
          f"{'met' if import_ok else 'MISSED'}")
    whole = 'python -c "import robotlab", whole process'
    print(f"{whole:<44} {imp['proc robotlab']:9.3f}s "
          f"{'python -c pass ' + format(imp['proc bare'], '.3f') + 's':>26} "
          f"{imp['proc robotlab'] / imp['proc bare']:6.1f}x  "
          f"(import adds {imp['proc robotlab'] - imp['proc bare']:.3f} s)")
    print(f"{'kernel RSS after Robot(); forward(20)':<44} {mem['after']:8.1f}MB "
          f"{'same kernel before ' + format(mem['before'], '.1f') + 'MB':>26} "
          f"{mem['after'] / mem['before']:6.2f}x  < {RSS_GOAL_MB:g} MB: "
          f"{'met' if rss_ok else 'MISSED'}")
    print(f"\nimport robotlab loads {imp['heavy'] or 'none'} of {', '.join(HEAVY)}; "
          f"RobotLab adds {mem['after'] - mem['before']:.1f} MB to the kernel "
          f"(peak VmHWM {mem['peak']:.1f} MB); kernel {kernels[0]['kernel']}; "
          f"arena pictures shown after the Robot cell: {kernels[0]['pictures']}")
    print("  kernel RSS after, each kernel: "
          + ", ".join(f"{r['after']:.1f}" for r in kernels) + " MB")
    if args.json:
        print(json.dumps({"import": imp, "kernel_rss_mb": mem}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
