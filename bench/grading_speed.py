"""Autograding a class: what RobotLab's robot checks add to nbgrader's own time.

Two course folders (``grading.course.write_config``, time limit 5 s per cell, as the class
test ``tests/grading/test_class_e2e.py``) with the same lesson (``tests/grading/lesson.py``:
drive a 30 cm square) and the same 30 pupils' answers (12 correct, 6 partly right, 6 wrong,
3 crashing, 3 never-ending, which the time limit stops after 5 s each):

- **robot**: the hidden tests call ``grading.checks.drove_square(robot, 30)`` and
  ``never_collided(robot)`` (a failing check also renders a picture of the path);
- **baseline**: the hidden tests are ``assert True``: what nbgrader itself costs for the same
  notebooks (a kernel per pupil, the pupils' robot code, the time limit, the gradebook).

Each course is made with nbgrader's own commands (``db student import``,
``generate_assignment``); the submissions are put straight into ``submitted/sNN/firkant/``
(what ``collect`` leaves; the class test goes through the exchange). Only
``nbgrader autograde firkant --force`` is timed, wall clock, for each course, interleaved,
``--repeats`` times (medians). Goal: the robot checks add at most 50 % to the baseline.
``--check`` exits with 1 when the goal is missed.

Run with the project venv: ``.venv/bin/python bench/grading_speed.py`` (or
``bash bench/run.sh grading``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.grading import lesson  # noqa: E402

GOAL_EXTRA = 0.50          # robot checks add at most 50 %
TIME_LIMIT_S = 5


def build(root: Path, trivial: bool) -> lesson.Course:
    course = lesson.Course(root, time_limit_s=TIME_LIMIT_S, trivial=trivial)
    course.add_students()
    course.write_source()
    course.run("generate_assignment", lesson.ASSIGNMENT, "--force")
    course.place_submissions()
    return course


def timed_autograde(course: lesson.Course) -> float:
    start = time.perf_counter()
    course.autograde(timeout=900)
    return time.perf_counter() - start


def scores(course: lesson.Course) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course.dir / 'gradebook.db'}",
                   course_id=lesson.COURSE_ID) as gb:
        return {sid: gb.find_submission(lesson.ASSIGNMENT, sid).score for sid in course.pupils}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1,
                        help="autograde runs per course, interleaved (median)")
    parser.add_argument("--check", action="store_true", help="exit with 1 when the goal is missed")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="robotlab-grading-") as tmp:
        robot = build(Path(tmp) / "robot", trivial=False)
        plain = build(Path(tmp) / "baseline", trivial=True)
        times = {"robot": [], "baseline": []}
        for i in range(args.repeats):
            # Alternate which goes first, so neither always gets the warm caches.
            order = [("robot", robot), ("baseline", plain)]
            for name, course in order if i % 2 == 0 else order[::-1]:
                times[name].append(timed_autograde(course))
        got = scores(robot)
        wrong = {sid: (kind, got[sid]) for sid, kind in robot.pupils.items()
                 if got[sid] != lesson.KINDS[kind].points}
        plain_full = all(s == lesson.MAX_POINTS for s in scores(plain).values())

    n = len(robot.pupils)
    mix = ", ".join(f"{k} {v}" for k, v in lesson.CLASS_MIX.items())
    t_robot = statistics.median(times["robot"])
    t_plain = statistics.median(times["baseline"])
    ratio = t_robot / t_plain
    met = ratio <= 1 + GOAL_EXTRA
    stopped = lesson.CLASS_MIX.get("never_ending", 0) * TIME_LIMIT_S
    print(f"Autograding {n} submissions of the square lesson ({mix}), "
          f"nbgrader autograde wall time, median of {args.repeats}")
    print(f"{'measure':<34} {'robot checks':>13} {'assert True':>12} {'ratio':>7}  goal")
    print("-" * 100)
    print(f"{'nbgrader autograde, 30 pupils':<34} {t_robot:12.1f}s {t_plain:11.1f}s {ratio:6.2f}x  "
          f"robot checks add at most {GOAL_EXTRA:.0%}: {'met' if met else 'missed'} "
          f"(+{ratio - 1:.0%})")
    print(f"{'per pupil':<34} {t_robot / n:12.2f}s {t_plain / n:11.2f}s")
    print(f"\nBoth include {stopped} s of never-ending cells waiting for the {TIME_LIMIT_S} s "
          f"time limit; without it: {t_robot - stopped:.1f} s vs {t_plain - stopped:.1f} s "
          f"({(t_robot - stopped) / (t_plain - stopped):.2f}x).")
    if args.repeats > 1:
        print("  each run (s): robot " + " ".join(f"{t:.1f}" for t in times["robot"]) +
              ", baseline " + " ".join(f"{t:.1f}" for t in times["baseline"]))
    print(f"Scores as expected for every kind of answer: {'yes' if not wrong else wrong}; "
          f"baseline all full points: {'yes' if plain_full else 'no'}")
    if args.json:
        print(json.dumps({"pupils": n, "robot_s": times["robot"], "baseline_s": times["baseline"],
                          "ratio": ratio, "goal_met": met}))
    if args.check and (not met or wrong or not plain_full):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
