"""The latency the browser relay adds to a blocking command, on localhost.

Relay path: a real ``jupyter lab`` (the browser harness's ``start_jupyter_server``,
127.0.0.1, ``ROBOTLAB_BLE=browser``) and a real kernel run ``robot.led(...)``
``--commands`` times; each call waits for the robot's ACK, which travels kernel ->
relay socket -> Jupyter server -> WebSocket -> "browser" -> virtual robot and back.
The browser is the Python tab of tests/ble_bridge/relay_harness.py (``Tab``: a
WebSocket client that writes to the robot with bleak on the virtual radio, as the
Connect panel writes with Web Bluetooth), not Chromium: what is measured is the
relay, not a JavaScript engine.

Baseline, in the same run: the same ``robot.led(...)`` calls with bleak straight
to the same virtual radio (``use_bleak_backends``), no relay.

Commands are ``--gap-ms`` apart (default 10 ms): back-to-back commands are paced to
one write per 7.5 ms (a BLE connection interval), which would measure the pacing.
Prints p50 and p99 of both and the difference; exits 1 when the added p50 exceeds
5 ms or the added p99 20 ms.

``--robot lego`` measures the same for a virtual LEGO hub (LEGO Wireless Protocol 3.0):
``robot.led(...)`` there waits for the hub's Port Output Command Feedback.

    .venv/bin/python bench/relay_latency.py [--commands 1000] [--gap-ms 10] [--robot lego]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from ble_bridge.virtual import VirtualRadio, backends  # noqa: E402
from robotlab import Robot  # noqa: E402
from robotlab.backends import bluetooth, lego  # noqa: E402
from robotlab.emulate import (start_virtual_hubs, start_virtual_robots,  # noqa: E402
                              stop_virtual_hubs, stop_virtual_robots)
from tests.ble_bridge.relay_harness import SETUP, Kernel, Tab, log_in  # noqa: E402
from tests.browser.harness import start_jupyter_server  # noqa: E402

GOAL_P50_MS = 5.0
GOAL_P99_MS = 20.0

MEASURE = """
import time
_samples = []
for _i in range({commands}):
    _start = time.perf_counter()
    robot.led((_i % 2) * 255, 0, 0)
    _samples.append((time.perf_counter() - _start) * 1000)
    time.sleep({gap_s})
print("SAMPLES " + json.dumps(_samples), flush=True)
"""


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


#: Per kind of robot: (the robot driven through the relay, the baseline's robot, the kind).
ROBOTS = {"robotlab": ("RobotLab-07", "RobotLab-08", "ble"),
          "lego": ("Technic Hub A", "Technic Hub B", "lego")}


def baseline(radio: VirtualRadio, commands: int, gap_s: float, robot_kind: str) -> list[float]:
    """``robot.led`` with bleak straight to the virtual radio, in this process."""
    _, name, kind = ROBOTS[robot_kind]
    module = lego if kind == "lego" else bluetooth
    module.use_bleak_backends(*backends(radio))
    robot = Robot(kind, name=name)
    samples = []
    try:
        for i in range(commands):     # the same loop as MEASURE runs in the kernel
            start = time.perf_counter()
            robot.led((i % 2) * 255, 0, 0)
            samples.append((time.perf_counter() - start) * 1000)
            time.sleep(gap_s)
        return samples
    finally:
        robot.close()
        module.use_bleak_backends(None, None)


async def through_relay(server, radio: VirtualRadio, commands: int, gap_s: float,
                        robot_kind: str) -> list[float]:
    """``robot.led`` in a kernel, through the relay and the Python tab."""
    name, _, kind = ROBOTS[robot_kind]
    kernel = await Kernel.start(server)
    tab = Tab(server, kernel.id, radio)
    try:
        await kernel.cell(SETUP)
        run = kernel.run(f'robot = Robot("{kind}")')
        panel = json.loads(await run.line("PANEL "))
        await tab.connect_robot(name)
        answer = await tab.pair(panel["token"], name=name)
        assert answer["type"] == "paired", answer
        await run.finished()
        measuring = kernel.run(MEASURE.format(commands=commands, gap_s=gap_s))
        return json.loads(await measuring.line("SAMPLES ", timeout=commands * (gap_s + 0.1) + 30))
    finally:
        await tab.close()
        await kernel.close()


def row(name: str, samples: list[float]) -> str:
    return (f"  {name:<22} p50 {percentile(samples, 0.5):6.2f} ms   p99 {percentile(samples, 0.99):6.2f} ms"
            f"   mean {statistics.fmean(samples):6.2f} ms   max {max(samples):6.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    parser.add_argument("--robot", choices=sorted(ROBOTS), default="robotlab")
    args = parser.parse_args()
    gap_s = args.gap_ms / 1000
    radio = VirtualRadio()
    if args.robot == "lego":
        robots = start_virtual_hubs(radio, 2, noise=False, names=list(ROBOTS["lego"][:2]))
    else:
        robots = start_virtual_robots(radio, 2, noise=False)  # RobotLab-07 (relay), -08 (baseline)
    try:
        direct = baseline(radio, args.commands, gap_s, args.robot)
        with tempfile.TemporaryDirectory(prefix="rl-relay-bench-") as root, \
                start_jupyter_server(Path(root), env_overrides={"ROBOTLAB_BLE": "browser"},
                                     log_name="jupyter-server-relay-bench.log") as server:
            log_in(server)
            loop = asyncio.new_event_loop()
            try:
                relayed = loop.run_until_complete(
                    through_relay(server, radio, args.commands, gap_s, args.robot))
            finally:
                loop.close()
    finally:
        (stop_virtual_hubs if args.robot == "lego" else stop_virtual_robots)(robots)
        radio.close()
    added_p50 = percentile(relayed, 0.5) - percentile(direct, 0.5)
    added_p99 = percentile(relayed, 0.99) - percentile(direct, 0.99)
    answer = "the hub's feedback" if args.robot == "lego" else "its ACK"
    print(f"Relay latency: robot.led(...) until {answer}, {args.commands} commands "
          f"{args.gap_ms:g} ms apart, localhost, virtual {args.robot} robot; the browser is a "
          "Python tab")
    print(row("bleak, no relay", direct))
    print(row("through the relay", relayed))
    ok = added_p50 <= GOAL_P50_MS and added_p99 <= GOAL_P99_MS
    print(f"  added by the relay     p50 {added_p50:+6.2f} ms (goal <= {GOAL_P50_MS:g})"
          f"   p99 {added_p99:+6.2f} ms (goal <= {GOAL_P99_MS:g})   {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
