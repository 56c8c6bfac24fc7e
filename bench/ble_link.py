"""The Bluetooth link's cost and speed, measured on the virtual radio.

Everything is real except the radio: ``ble_bridge.transport.RobotLink`` and
``Robot("ble")`` talk through bleak's public API to the virtual radio's bleak
backends, Bumble's LocalLink carries the ATT packets, and a virtual robot
(``robotlab.emulate``, paced to real time) answers with the protocol's robot
side. Link operations are counted at the bleak backend, i.e. every ATT write
the client issues and every notification it receives.

1. Link operations per blocking command. A move (``MOVE_STRAIGHT`` + wait
   for ``DONE``) and a non-motion (``SET_LED``), ``--commands`` of each. Goal:
   one write and one notification per ACK, plus the DONE notification.
   Baseline: the same link writing with response (the ATT Write Request
   needs a Write Response, two packets), as docs/protocol.md suggests when a
   robot offers it. Heartbeats and telemetry meanwhile are shown apart.
2. Telemetry at the default subscription (every 50 ms), for ``--seconds``:
   frames, bytes and notifications per second, largest notification (must
   fit 20 bytes). Baseline: the same readings sent the way a MakeCode program
   would (``bluetooth.uartWriteValue(name, value)``: one ``name:value`` text
   line per sensor, packed into 20-byte indications), computed from the
   values actually received.
3. Command latency: ``--samples`` round trips of a ``SET_LED`` until its ACK,
   called from a plain thread as pupil code does (``RobotLink.command``), and
   the pupil's ``robot.led(...)``. Baseline: a raw 20-byte write and its echo
   as a notification on the same radio, from an asyncio loop, no protocol.
   Samples are 20 ms apart (back-to-back commands are paced to one write per
   7.5 ms, a BLE connection interval, which would measure the pacing instead).

Run with the project venv: ``.venv/bin/python bench/ble_link.py`` (or
``./dev.sh bench ble``). Needs bumble (the ``emulate`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from bleak import BleakClient, BleakScanner  # noqa: E402

from ble_bridge import (NUS_SERVICE_UUID, Ack, Decoded, Done, FrameReader, HeartbeatAck,  # noqa: E402
                       MoveStraight, SetLed, Telemetry, decode, uart_roles)
from ble_bridge.transport import RobotLink  # noqa: E402
from ble_bridge.virtual import NusPeripheral, VirtualRadio, backends  # noqa: E402

FRAME_LIMIT = 20
#: MakeCode's uartWriteValue names for the eight readings of one TELEMETRY frame.
TEXT_NAMES = ("t", "d", "rl", "rr", "bits", "c", "h", "o")


class LinkLog:
    """ATT operations seen by one client backend: ("write", data, with_response) and ("notify", data)."""

    def __init__(self):
        self.ops: list[tuple] = []
        self.lock = threading.Lock()

    def counting(self, client_backend: type) -> type:
        log = self

        class CountingClient(client_backend):
            async def write_gatt_char(self, characteristic, data, response):
                with log.lock:
                    log.ops.append(("write", bytes(data), response))
                await super().write_gatt_char(characteristic, data, response)

            async def start_notify(self, characteristic, callback, **kwargs):
                def counted(data):
                    with log.lock:
                        log.ops.append(("notify", bytes(data)))
                    callback(data)
                await super().start_notify(characteristic, counted, **kwargs)

        return CountingClient

    def take(self) -> list[tuple]:
        with self.lock:
            ops, self.ops = self.ops, []
        return ops


def frames_in(data: bytes) -> list:
    return [item.message for item in FrameReader().feed(data) if isinstance(item, Decoded)]


def classify(ops: list[tuple], command_type: int) -> Counter:
    """How many link operations of each kind: the command's, its answers, and background."""
    counts = Counter()
    for op in ops:
        if op[0] == "write":
            kind = "command write" if decode(op[1]).message.TYPE == command_type else "heartbeat write"
            counts[kind] += 2 if op[2] else 1    # a Write Request is answered by a Write Response
            continue
        messages = frames_in(op[1])
        if any(isinstance(m, Ack) and m.command_type == command_type for m in messages):
            counts["ACK notification"] += 1
        elif any(isinstance(m, Done) for m in messages):
            counts["DONE notification"] += 1
        elif any(isinstance(m, (Telemetry, HeartbeatAck)) for m in messages):
            counts["telemetry/heartbeat notification"] += 1
        else:
            counts["other notification"] += 1
    return counts


def connect(radio, robot_name: str, *, with_response: bool = False) -> tuple[RobotLink, LinkLog]:
    scanner, client = backends(radio)
    log = LinkLog()
    link = RobotLink(scanner_backend=scanner, client_backend=log.counting(client),
                     with_response=with_response)
    link.connect(robot_name, find_s=2.0)
    log.take()
    return link, log


def operations_per_command(radio, name: str, commands: int, with_response: bool) -> dict:
    link, log = connect(radio, name, with_response=with_response)
    result = {}
    try:
        for label, make, motion in (("move (MOVE_STRAIGHT, wait for DONE)", lambda: MoveStraight(10, 100), True),
                                    ("SET_LED", lambda: SetLed(0, 0, 255), False)):
            total = Counter()
            for _ in range(commands):
                message = make()
                log.take()
                accepted = link.command(message)
                if motion:
                    link.wait_done(accepted.seq)
                total += classify(log.take(), message.TYPE)
                time.sleep(0.02)
            result[label] = {k: v / commands for k, v in total.items()}
        result["retransmissions"] = link.counters.retransmissions
    finally:
        link.close()
    return result


def text_baseline(samples: list) -> tuple[int, int]:
    """Bytes and 20-byte indications for the same readings as MakeCode name:value lines."""
    total_bytes = indications = 0
    for state in samples:
        values = (state.time_ms, state.distance_mm if state.distance_mm is not None else 65535,
                  state.reflection_left_percent, state.reflection_right_percent,
                  int(state.line_left) | int(state.line_right) << 1 | int(state.bumped) << 2,
                  int(state.colour), state.heading_cdeg, state.odometer_mm)
        text = "".join(f"{name}:{value}\n" for name, value in zip(TEXT_NAMES, values)).encode()
        total_bytes += len(text)
        indications += -(-len(text) // FRAME_LIMIT)
    return total_bytes, indications


def telemetry_rate(radio, name: str, seconds: float) -> dict:
    link, log = connect(radio, name)
    states, seen = [], 0
    try:
        link.command(MoveStraight(10_000, 10))    # moving, so the values change
        log.take()
        start = time.monotonic()
        while (left := start + seconds - time.monotonic()) > 0:
            try:
                state = link.next_telemetry(seen, min(left, 1.0))
            except ConnectionError:
                break
            seen = state.number
            states.append(state)
        elapsed = time.monotonic() - start
        notifications = [op[1] for op in log.take() if op[0] == "notify"
                         and any(isinstance(m, Telemetry) for m in frames_in(op[1]))]
    finally:
        link.close()
    text_bytes, text_indications = text_baseline(states)
    return {"seconds": elapsed, "frames": len(notifications),
            "bytes": sum(map(len, notifications)), "largest": max(map(len, notifications)),
            "text_bytes": text_bytes * len(notifications) / max(1, len(states)),
            "text_indications": text_indications * len(notifications) / max(1, len(states))}


def command_latency(radio, name: str, samples: int) -> list[float]:
    link, _ = connect(radio, name)
    times = []
    try:
        for _ in range(samples):
            start = time.perf_counter()
            link.command(SetLed(0, 255, 0))
            times.append(time.perf_counter() - start)
            time.sleep(0.02)
    finally:
        link.close()
    return times


def pupil_latency(radio, name: str, samples: int) -> list[float]:
    from robotlab import Robot
    from robotlab.backends import bluetooth
    bluetooth.use_bleak_backends(*backends(radio))
    robot = Robot("ble", name=name)
    times = []
    try:
        for _ in range(samples):
            start = time.perf_counter()
            robot.led("grøn")
            times.append(time.perf_counter() - start)
            time.sleep(0.02)
    finally:
        robot.close()
        bluetooth.use_bleak_backends(None, None)
    return times


def echo_latency(radio, samples: int) -> list[float]:
    """Raw write-and-echo round trips on the same radio, straight through bleak."""
    def echo(data):
        peripheral.notify(data)

    peripheral = NusPeripheral(radio, "Echo-01", echo)
    peripheral.start()

    async def measure() -> list[float]:
        scanner, client_backend = backends(radio)
        device = await BleakScanner.find_device_by_name("Echo-01", timeout=2.0, backend=scanner)
        async with BleakClient(device, backend=client_backend) as client:
            service = client.services.get_service(NUS_SERVICE_UUID)
            roles = uart_roles((c.uuid, c.properties) for c in service.characteristics)
            echoed = asyncio.Queue()
            await client.start_notify(roles.from_robot, lambda _c, data: echoed.put_nowait(data))
            payload, times = bytes(range(FRAME_LIMIT)), []
            for _ in range(samples):
                start = time.perf_counter()
                await client.write_gatt_char(roles.to_robot, payload, response=False)
                await echoed.get()
                times.append(time.perf_counter() - start)
                await asyncio.sleep(0.02)
            return times

    try:
        return asyncio.run(measure())
    finally:
        peripheral.stop()


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:5.2f} ms, p95 {p95 * 1000:5.2f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20, help="commands per kind for part 1")
    parser.add_argument("--seconds", type=float, default=5.0, help="telemetry seconds for part 2")
    parser.add_argument("--samples", type=int, default=200, help="round trips for part 3")
    args = parser.parse_args(argv)

    from robotlab.emulate import start_virtual_robots, stop_virtual_robots
    radio = VirtualRadio()
    robots = start_virtual_robots(radio, 1, noise=False)
    name = robots[0].name
    try:
        ours = operations_per_command(radio, name, args.commands, with_response=False)
        baseline = operations_per_command(radio, name, args.commands, with_response=True)
        telemetry = telemetry_rate(radio, name, args.seconds)
        echo = echo_latency(radio, args.samples)
        link = command_latency(radio, name, args.samples)
        pupil = pupil_latency(radio, name, args.samples)
    finally:
        stop_virtual_robots(robots)
        radio.close()

    print(f"Bluetooth link on the virtual radio (bleak {_version('bleak')}, bumble {_version('bumble')}), "
          f"Python {platform.python_version()}, {os.cpu_count()} CPUs")
    print("\n1. Link operations per blocking command (mean of "
          f"{args.commands}; a Write Request and its Write Response count 2)")
    goals = {"move (MOVE_STRAIGHT, wait for DONE)": 3.0, "SET_LED": 2.0}
    failed = False
    for label, goal in goals.items():
        counts, with_response = ours[label], baseline[label]
        own = sum(v for k, v in counts.items() if not k.startswith(("heartbeat", "telemetry")))
        base = sum(v for k, v in with_response.items() if not k.startswith(("heartbeat", "telemetry")))
        detail = ", ".join(f"{k} {v:.2f}" for k, v in sorted(counts.items()))
        met = "met" if own <= goal else "MISSED"
        failed |= own > goal
        print(f"  {label:<38} {own:4.2f} ops   baseline with response {base:4.2f}   "
              f"ratio {base / own:4.2f}x   goal {goal:g}: {met}")
        print(f"  {'':<38} ({detail})")
    print(f"  retransmissions: {ours['retransmissions']} (write without response), "
          f"{baseline['retransmissions']} (with response)")

    t = telemetry
    per_s = t["seconds"]
    print(f"\n2. Telemetry at the default subscription, {per_s:.1f} s")
    print(f"  RobotLab TELEMETRY      {t['frames'] / per_s:5.1f} notifications/s  "
          f"{t['bytes'] / per_s:6.0f} B/s   largest {t['largest']} B (limit {FRAME_LIMIT})")
    print(f"  baseline name:value text {t['text_indications'] / per_s:5.1f} indications/s   "
          f"{t['text_bytes'] / per_s:6.0f} B/s   ratio {t['text_bytes'] / t['bytes']:.2f}x bytes, "
          f"{t['text_indications'] / t['frames']:.2f}x packets")
    failed |= t["largest"] > FRAME_LIMIT

    print(f"\n3. Command latency, {args.samples} round trips each")
    print(f"  raw write + echo (baseline)        {ms(echo)}")
    print(f"  RobotLink.command(SET_LED) -> ACK  {ms(link)}   "
          f"ratio {statistics.median(link) / statistics.median(echo):.2f}x")
    print(f"  robot.led(...) (pupil API)         {ms(pupil)}   "
          f"ratio {statistics.median(pupil) / statistics.median(echo):.2f}x")
    return 1 if failed else 0


def _version(package: str) -> str:
    from importlib.metadata import version
    return version(package)


if __name__ == "__main__":
    sys.exit(main())
