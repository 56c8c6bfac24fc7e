"""A class logs in at once: 30 pupils on the school's hub run lesson 1's first cell together.

    sudo .venv/bin/python bench/hub_load.py [--pupils 30] [--memory-limit-mb 1024]
    bash bench/run.sh hub

Runs the real hub (tests/deploy/hub_harness.py: PAM logins of real Unix users,
configurable-http-proxy, each pupil's server as the pupil in a memory cgroup). First the
baseline: one pupil alone logs in, starts a server and runs the cell (then stops it). Then
all pupils do the same at the same moment, one thread each. Reported: the time until every
pupil's cell has run, each pupil's time, and the memory of each pupil's server with its
kernel (the cgroup's ``memory.current`` and its anonymous memory, i.e. without the page
cache; on cgroup v1 ``memory.usage_in_bytes`` and ``total_rss``). Any failure is printed and makes the exit status 1. Needs root, like the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "deploy")]

from robotlab_hub.spawner import cgroup_version, default_parent  # noqa: E402
from tests.deploy.hub_harness import SchoolHub  # noqa: E402
from tests.deploy.test_hub import LESSON_CELL  # noqa: E402


def one_pupil(hub: SchoolHub, name: str, t0: float, results: dict) -> None:
    """Log in, start the server, run the cell; record the seconds since ``t0`` or the error."""
    try:
        browser = hub.browser(name)
        assert browser.log_in().status_code == 302, "login refused"
        browser.start_server()
        done = browser.run_cell(browser.start_kernel(), LESSON_CELL)
        assert done == {"status": "ok", "output": "kørt 10.0\n"}, done
        results[name] = ("ok", time.monotonic() - t0, browser)
    except Exception as error:  # noqa: BLE001 (every failure is reported, none stops the rest)
        results[name] = ("failed", time.monotonic() - t0, repr(error)[:300])


def memory_mb(name: str) -> tuple[float, float] | None:
    """(all, anonymous) memory of the pupil's cgroup (server and kernels) in MiB: cgroup v2
    ``memory.current``/``anon``, v1 ``memory.usage_in_bytes``/``total_rss``."""
    parent = default_parent()
    if parent is None or not (parent / name).is_dir():
        return None
    group = parent / name
    stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
    if cgroup_version() == 2:
        return int((group / "memory.current").read_text()) / 2**20, int(stat["anon"]) / 2**20
    return (int((group / "memory.usage_in_bytes").read_text()) / 2**20,
            int(stat["total_rss"]) / 2**20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=30)
    parser.add_argument("--memory-limit-mb", type=int, default=1024)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="rlx-load-", dir="/tmp"))
    hub = SchoolHub(base, pupils=args.pupils + 1, memory_limit_mb=args.memory_limit_mb)
    print(f"hub_load: {args.pupils} pupils at once on {hub.url}, "
          f"memory limit {args.memory_limit_mb} MiB each")
    failed = 0
    try:
        started = time.monotonic()
        hub.start()
        print(f"  hub up with {args.pupils + 1} accounts in {time.monotonic() - started:.1f} s")

        # Baseline: one pupil alone, on the same hub.
        alone, *the_class = hub.pupils
        results: dict = {}
        one_pupil(hub, alone, time.monotonic(), results)
        status, baseline_s, browser = results[alone]
        if status != "ok":
            print(f"  baseline failed: {browser}")
            return 1
        baseline_mem = memory_mb(alone)
        browser.hub_api("DELETE", f"/users/{alone}/server")

        # The class at once.
        results = {}
        t0 = time.monotonic()
        threads = [threading.Thread(target=one_pupil, args=(hub, name, t0, results))
                   for name in the_class]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        all_s = time.monotonic() - t0
        times = sorted(r[1] for r in results.values() if r[0] == "ok")
        failures = {name: r[2] for name, r in results.items() if r[0] != "ok"}
        failed = len(failures)
        mems = [m for m in (memory_mb(name) for name in the_class
                            if results[name][0] == "ok") if m]

        print(f"  baseline, one pupil alone: login to cell done {baseline_s:.1f} s"
              + (f", server+kernel {baseline_mem[0]:.0f} MiB ({baseline_mem[1]:.0f} MiB anon)"
                 if baseline_mem else ""))
        print(f"  {len(the_class)} at once: all running after {all_s:.1f} s "
              f"({all_s / baseline_s:.1f}x the baseline); per pupil median "
              f"{statistics.median(times) if times else float('nan'):.1f} s, "
              f"first {times[0] if times else float('nan'):.1f} s, "
              f"last {times[-1] if times else float('nan'):.1f} s")
        if mems:
            current = [m[0] for m in mems]
            anon = [m[1] for m in mems]
            print(f"  memory per pupil server (+kernel): median {statistics.median(current):.0f} MiB, "
                  f"max {max(current):.0f} MiB; anon median {statistics.median(anon):.0f} MiB, "
                  f"max {max(anon):.0f} MiB; all {sum(current) / 1024:.1f} GiB")
        print(f"  failures: {failed}")
        for name, error in sorted(failures.items()):
            print(f"    {name}: {error}")
    finally:
        hub.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
