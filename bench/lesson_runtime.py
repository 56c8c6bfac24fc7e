"""How long each lesson notebook takes to run headless, as nbgrader runs it.

Every written lesson in both languages: the source notebook (solutions and
hidden tests included, so every cell a graded pupil's notebook runs) is
executed top to bottom by nbclient in a fresh Jupyter kernel, in a temporary
copy of the lesson folder, with the grading environment: ``ROBOTLAB_PACE=max``,
``ROBOTLAB_SEED=1``, ``ROBOTLAB_VIEW=picture``. The wall-clock time includes
starting the kernel.

Baseline, measured in the same run and interleaved: a two-cell notebook that
only imports RobotLab and makes a simulated robot (kernel start-up + import +
one world), so the ratio shows what a lesson costs beyond starting up.

Goal (issue 7): every lesson notebook under 60 s. Run with the project venv:
``.venv/bin/python bench/lesson_runtime.py`` (or ``./dev.sh bench lessons``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grading.lessons import LANGUAGES, LESSONS, written  # noqa: E402

GOAL_S = 60.0
BASELINE = ("from robotlab import Robot, Eksperiment", "robot = Robot()\nrobot.frem(1)")


def run(notebook, folder: Path) -> float:
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o["output_type"] == "error"]
    if errors:
        raise RuntimeError(f"{folder}: {errors[0]['ename']}: {errors[0]['evalue']}")
    return elapsed


def time_lesson(lesson: dict, language: str) -> float:
    with tempfile.TemporaryDirectory(prefix="robotlab-bench-") as tmp:
        folder = Path(tmp) / lesson["folder"]
        shutil.copytree(LESSONS / lesson["folder"], folder)
        notebook = nbformat.read(folder / f"{language}.ipynb", as_version=4)
        return run(notebook, folder)


def time_baseline() -> float:
    with tempfile.TemporaryDirectory(prefix="robotlab-bench-") as tmp:
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(source) for source in BASELINE]
        return run(notebook, Path(tmp))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per notebook (median)")
    args = parser.parse_args(argv)
    os.environ.update(ROBOTLAB_PACE="max", ROBOTLAB_SEED="1", ROBOTLAB_VIEW="picture",
                      PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    lessons = written()
    times: dict[tuple[str, str], list[float]] = {}
    baseline: list[float] = []
    for _ in range(args.runs):
        for lesson in lessons:
            for language in LANGUAGES:
                baseline.append(time_baseline())
                times.setdefault((lesson["folder"], language), []).append(
                    time_lesson(lesson, language))
    base = statistics.median(baseline)
    print(f"Lesson notebooks run headless (nbclient, ROBOTLAB_PACE=max, SEED=1, pictures), "
          f"median of {args.runs}")
    print(f"baseline: import RobotLab + one robot in a fresh kernel: {base:.1f} s "
          f"(median of {len(baseline)}, interleaved)")
    print(f"{'lesson':36} {'lang':4} {'seconds':>8} {'x baseline':>11} {'of 60 s goal':>13}")
    worst = 0.0
    for (folder, language), runs in times.items():
        seconds = statistics.median(runs)
        worst = max(worst, seconds)
        print(f"{folder:36} {language:4} {seconds:8.1f} {seconds / base:10.1f}x "
              f"{seconds / GOAL_S:12.0%}")
    met = worst < GOAL_S
    print(f"slowest: {worst:.1f} s = {worst / GOAL_S:.0%} of the 60 s goal: "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
