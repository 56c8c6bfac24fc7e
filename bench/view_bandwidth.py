"""The live simulator view's network cost and smoothness, in a real browser.

A real ``jupyter lab`` (from the venv, on 127.0.0.1) and Debian's Chromium under
Playwright, through the browser tests' harness (``tests/browser/harness.py``);
kernels run at ``ROBOTLAB_PACE=1`` (real time), as in a classroom.

1. Live view bytes/s, kernel to browser. A notebook runs
   ``from robotlab import Robot`` / ``robot = Robot(noise=False)``, then the drive
   cell ``robot.drive(35, 50)`` / ``robot.wait(10)``: a circle, 10 s of virtual
   time. A CDP session (``Network.webSocketFrameReceived``) counts every
   WebSocket message the page receives, on every socket: text frames as their
   UTF-8 bytes, binary frames as their decoded bytes. The window runs from the
   kernel's ``busy`` status for the drive cell's execute request to its ``idle``
   (both read from the received messages themselves, with CDP's timestamps);
   bytes/s and messages/s are over that window. Goal: <= 15 kB/s per pupil.
2. Baseline, same run: a PNG per frame. A second notebook, its own kernel,
   sets ``ROBOTLAB_VIEW=picture`` (no live view), makes the same robot and
   shows the same drive as one 480 px PNG (the live canvas's CSS width) per
   frame at 30 frames/s through the same kernel -> browser path:
   ``display(Image(render_png(world, 480)), display_id=True)`` and then 300 x
   (``robot.wait(1/30)``, ``handle.update(Image(...))``). Measured the same way.
   Since rendering may make it slower than 30 frames/s, both the raw bytes/s and
   bytes per PNG frame x 30 are shown; the ratio PNG / live uses the latter.
   Goal: >= 20x.
3. The page keeps up: during the live drive, frames drawn per second in the
   page: ``data-frames`` of the view in the drive cell's output and
   ``performance.now()``, read in the page when the notebook's kernel status
   turns busy and idle (a MutationObserver on the status indicator). At busy the
   drive cell's copy does not exist yet; the count then is the one every copy
   of the view shares (a per-model counter), read from the Robot cell's copy.
   Goal: >= 25 frames/s.

Bytes are WebSocket message payloads (kB = 1000 bytes); the WebSocket frame
headers (2-14 bytes each) and TCP/IP are not counted, and the script prints
whether the socket negotiated compression (Jupyter's server does not, by default).

Run with the project venv: ``.venv/bin/python bench/view_bandwidth.py`` (or
``./dev.sh bench view``). ``--check`` exits with 1 when a goal is missed;
``--repeats N`` runs both notebooks N times (fresh kernels) and shows medians.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import statistics
import struct
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import pytest  # noqa: E402

from tests.browser import harness  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "bench"
DRIVE_S = 10
FPS = 30
LIVE_GOAL_KBPS = 15.0
RATIO_GOAL = 20.0
PAGE_FPS_GOAL = 25.0
IDLE_TIMEOUT_S = 120.0

LIVE_CELLS = [
    "from robotlab import Robot\nrobot = Robot(noise=False)",
    f"robot.drive(35, 50)\nrobot.wait({DRIVE_S})",
]
PNG_CELLS = [
    'import os\nos.environ["ROBOTLAB_VIEW"] = "picture"\n'
    "from IPython.display import Image, display\n"
    "from simulator.render import render_png\n"
    "from robotlab import Robot\nrobot = Robot(noise=False)\n"
    "world = robot._backend.world",
    "handle = display(Image(render_png(world, 480)), display_id=True)\n"
    "robot.drive(35, 50)\n"
    f"for _ in range({DRIVE_S * FPS}):\n"
    f"    robot.wait(1 / {FPS})\n"
    "    handle.update(Image(render_png(world, 480)))",
]
DRIVE_CELL = 1

# In the page: note the time, the kernel status and the views' frame counts whenever the
# notebook's execution indicator changes status. ``drive``: the drive cell's copy of the view
# (null until it exists); ``shared``: the highest count on any copy (all copies draw the same
# model's frames and show its one counter).
RECORDER_JS = """(cellIndex) => {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const indicator = () => panel.querySelector(".jp-Notebook-ExecutionIndicator")
      || document.querySelector(".jp-Notebook-ExecutionIndicator");
  const frames = (el) => (el && el.dataset.frames !== undefined ? Number(el.dataset.frames) : null);
  const onScreen = (el) => {
    if (!el) return false;
    const r = el.getBoundingClientRect();
    return r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth;
  };
  const rec = { marks: [], last: null };
  rec.mark = () => {
    const ind = indicator();
    const status = ind ? ind.dataset.status : null;
    if (status === rec.last) return;
    rec.last = status;
    const cell = panel.querySelectorAll(".jp-Notebook .jp-Cell")[cellIndex];
    const view = cell ? cell.querySelector(".jp-Cell-outputArea .robotlab-view") : null;
    const all = [...panel.querySelectorAll(".robotlab-view")].map(frames).filter(v => v !== null);
    rec.marks.push({ status, t: performance.now(), drive: frames(view),
                     shared: all.length ? Math.max(...all) : null, visible: onScreen(view) });
  };
  rec.observer = new MutationObserver(rec.mark);
  rec.observer.observe(panel, { attributes: true, subtree: true,
                               attributeFilter: ["data-status"] });
  rec.mark();
  window.__robotlabBench = rec;
}"""
RECORDS_JS = "() => window.__robotlabBench.marks"
DRIVE_VIEW_JS = """(cellIndex) => {
  const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
  const cell = panel.querySelectorAll(".jp-Notebook .jp-Cell")[cellIndex];
  const view = cell ? cell.querySelector(".jp-Cell-outputArea .robotlab-view") : null;
  return view ? Number(view.dataset.frames) : null;
}"""


# ---------------------------------------------------------------------------------------------
# WebSocket messages, as the page received them
# ---------------------------------------------------------------------------------------------


@dataclass
class Received:
    """One WebSocket message the page received (CDP's monotonic timestamp, in s)."""

    t: float
    socket: str
    size: int
    msg_type: str = ""
    parent_id: str = ""
    content: dict = field(default_factory=dict)
    buffers: list = field(default_factory=list)


def _parse_kernel_message(data: bytes, text: bool) -> tuple[dict, list[bytes]] | None:
    """A Jupyter message from the kernel WebSocket: header, parent_header, content, buffers.

    Binary messages are the ``v1.kernel.websocket.jupyter.org`` protocol (offsets, channel,
    header, parent header, metadata, content, buffers) or the legacy one (big-endian offsets,
    JSON, buffers); text messages are legacy JSON.
    """
    try:
        if text:
            return json.loads(data), []
        count = int.from_bytes(data[:8], "little")
        if 3 <= count <= 1000 and len(data) >= 8 * (count + 1):
            offsets = [int.from_bytes(data[8 * (i + 1):8 * (i + 2)], "little")
                       for i in range(count)]
            if offsets[-1] == len(data) and offsets == sorted(offsets):
                parts = [data[offsets[i]:offsets[i + 1]] for i in range(count - 1)]
                channel, header, parent, _metadata, content = (p.decode() for p in parts[:5])
                return ({"channel": channel, "header": json.loads(header),
                         "parent_header": json.loads(parent), "content": json.loads(content)},
                        parts[5:])
        count = struct.unpack(">I", data[:4])[0]
        offsets = list(struct.unpack(f">{count}I", data[4:4 + 4 * count])) + [len(data)]
        message = json.loads(data[offsets[0]:offsets[1]])
        return message, [data[offsets[i]:offsets[i + 1]] for i in range(1, count)]
    except (ValueError, UnicodeDecodeError, struct.error, IndexError):
        return None


class Recorder:
    """Every WebSocket message the page receives, from a CDP session (``Network`` domain)."""

    def __init__(self, page):
        self.frames: list[tuple[float, str, int, str]] = []
        self.sockets: dict[str, str] = {}
        self.handshakes: dict[str, dict] = {}
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.webSocketCreated",
                    lambda p: self.sockets.__setitem__(p["requestId"], p["url"]))
        self.cdp.on("Network.webSocketHandshakeResponseReceived",
                    lambda p: self.handshakes.__setitem__(
                        p["requestId"], {k.lower(): v for k, v in
                                         p["response"].get("headers", {}).items()}))
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.send("Network.enable")

    def _frame(self, params: dict) -> None:
        response = params["response"]
        self.frames.append((params["timestamp"], params["requestId"], response["opcode"],
                            response["payloadData"]))

    def messages(self, since: int = 0) -> list[Received]:
        out = []
        for t, socket, opcode, payload in self.frames[since:]:
            if opcode == 1:
                data, text = payload.encode("utf-8"), True
            elif opcode == 2:
                data, text = base64.b64decode(payload), False
            else:       # control frames (ping, pong, close) carry no message
                continue
            received = Received(t=t, socket=socket, size=len(data))
            if "/channels" in self.sockets.get(socket, ""):
                parsed = _parse_kernel_message(data, text)
                if parsed:
                    message, buffers = parsed
                    received.msg_type = message.get("header", {}).get("msg_type", "")
                    received.parent_id = message.get("parent_header", {}).get("msg_id", "")
                    received.content = message.get("content", {})
                    received.buffers = buffers
            out.append(received)
        return out

    def compression(self) -> str:
        kernel = [h for s, h in self.handshakes.items() if "/channels" in self.sockets.get(s, "")]
        extensions = {h.get("sec-websocket-extensions", "") for h in kernel} - {""}
        return ", ".join(sorted(extensions)) or "none"


def cell_window(messages: list[Received], code: str) -> tuple[float, float, str]:
    """The drive cell's busy..idle window (CDP time, s) and its execute request's id."""
    request = next((m.parent_id for m in messages
                    if m.msg_type == "execute_input" and m.content.get("code") == code), None)
    if request is None:
        raise RuntimeError("the drive cell's execute_input never reached the page")
    states = [(m.t, m.content.get("execution_state")) for m in messages
              if m.msg_type == "status" and m.parent_id == request]
    busy = next((t for t, state in states if state == "busy"), None)
    idle = next((t for t, state in states if state == "idle" and busy is not None and t >= busy),
                None)
    if busy is None or idle is None:
        raise RuntimeError(f"no busy and idle status for the drive cell (saw {states})")
    return busy, idle, request


def frames_in_batch(buffer: bytes) -> int:
    """Frames in one live-view batch (``uint8 FORMAT, uint8 n_frames, ...``)."""
    from robotlab.view import FORMAT
    if len(buffer) < 2 or buffer[0] != FORMAT:
        return 0
    return buffer[1]


def has_png(message: Received) -> bool:
    return message.msg_type in ("display_data", "update_display_data", "execute_result") and \
        "image/png" in message.content.get("data", {})


# ---------------------------------------------------------------------------------------------
# One notebook, one drive
# ---------------------------------------------------------------------------------------------


def run_notebook(browser, server, name: str, cells: list[str], live: bool) -> dict:
    """Open ``cells`` as notebook ``name``, run the set-up cell, then measure the drive cell."""
    harness.write_notebook(server, name, cells)
    context = harness.new_context(browser)
    try:
        page = context.new_page()
        console = harness.collect_console(page)
        recorder = Recorder(page)        # before the page opens its WebSockets
        harness.open_notebook(page, server, name, "lab")
        harness.run_cell(page, 0, timeout=IDLE_TIMEOUT_S)
        if live:
            harness.cell_output_locator(page, 0).locator(".robotlab-view").first.wait_for(
                state="visible", timeout=30_000)
            page.evaluate(RECORDER_JS, DRIVE_CELL)
        page.wait_for_timeout(500)       # the set-up cell's last messages are in
        start = len(recorder.frames)
        started = time.monotonic()
        harness.run_cell(page, DRIVE_CELL, wait=False)
        harness.wait_for_kernel_idle(page, timeout=IDLE_TIMEOUT_S)
        page.wait_for_timeout(500)       # CDP events of the last messages are dispatched
        elapsed = time.monotonic() - started
        messages = recorder.messages(start)
        busy, idle, _ = cell_window(messages, cells[DRIVE_CELL])
        window = [m for m in messages if busy <= m.t <= idle]
        seconds = idle - busy
        result = {
            "seconds": seconds,
            "wall_s": elapsed,
            "bytes": sum(m.size for m in window),
            "messages": len(window),
            "bytes_per_s": sum(m.size for m in window) / seconds,
            "messages_per_s": len(window) / seconds,
            "compression": recorder.compression(),
            "by_type": dict(Counter(m.msg_type or "(other socket)" for m in window)),
            "bytes_by_type": _bytes_by_type(window),
        }
        batches = [m for m in window if m.msg_type == "comm_msg" and m.buffers]
        result["sent_frames"] = sum(frames_in_batch(m.buffers[0]) for m in batches)
        result["batches"] = len(batches)
        result["batch_bytes"] = sum(m.size for m in batches)
        result["batch_payload_bytes"] = sum(len(b) for m in batches for b in m.buffers)
        pngs = [m for m in window if has_png(m)]
        result["pngs"] = len(pngs)
        result["png_bytes"] = sum(len(m.content["data"]["image/png"]) for m in pngs)  # base64
        if live:
            result.update(page_frames(page))
            harness.save_screenshot(page, "view-bandwidth-live", ARTIFACTS)
        else:
            harness.save_screenshot(page, "view-bandwidth-png", ARTIFACTS)
        errors = [line for line in console if line.startswith("[pageerror]")]
        if errors:
            result["page_errors"] = errors[:5]
        return result
    finally:
        context.close()
        server.shutdown_kernels()


def page_frames(page) -> dict:
    """Frames drawn per second in the page over the drive cell's busy..idle window."""
    marks = page.evaluate(RECORDS_JS)
    busy = next((m for m in marks if m["status"] == "busy"), None)
    idle = next((m for m in marks if busy is not None and m["status"] == "idle"
                 and m["t"] >= busy["t"]), None)
    if busy is None or idle is None or idle["drive"] is None:
        raise RuntimeError(f"the page never showed the drive cell busy then idle with its "
                           f"view: {marks}")
    start = busy["drive"] if busy["drive"] is not None else busy["shared"] or 0
    seconds = (idle["t"] - busy["t"]) / 1000
    drawn = idle["drive"] - start
    page.wait_for_timeout(1000)          # the last frames play 150 ms late
    total = page.evaluate(DRIVE_VIEW_JS, DRIVE_CELL)
    return {"page_seconds": seconds, "page_frames": drawn, "page_fps": drawn / seconds,
            "page_frames_total": (total - start) if total is not None else None,
            "view_on_screen": idle["visible"]}


def _bytes_by_type(window: list[Received]) -> dict:
    sizes: Counter = Counter()
    for m in window:
        sizes[m.msg_type or "(other socket)"] += m.size
    return dict(sizes)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------


def summarise(live: dict, png: dict) -> dict:
    png_per_frame = png["bytes"] / max(1, png["pngs"])
    return {
        "live_kBps": live["bytes_per_s"] / 1000,
        "live_msgps": live["messages_per_s"],
        "live_sent_fps": live["sent_frames"] / live["seconds"],
        "page_fps": live["page_fps"],
        "png_raw_kBps": png["bytes_per_s"] / 1000,
        "png_fps": png["pngs"] / png["seconds"],
        "png_frame_kB": png_per_frame / 1000,
        "png_30_kBps": png_per_frame * FPS / 1000,
        "png_msgps": png["messages_per_s"],
        "ratio": (png_per_frame * FPS) / live["bytes_per_s"],
    }


def median_of(runs: list[dict]) -> dict:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def goal(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(runs: list[tuple[dict, dict]], figures: dict, started: float) -> bool:
    live, png = runs[-1]
    f = figures
    live_ok = f["live_kBps"] <= LIVE_GOAL_KBPS
    ratio_ok = f["ratio"] >= RATIO_GOAL
    fps_ok = f["page_fps"] >= PAGE_FPS_GOAL
    envelope = (live["batch_bytes"] - live["batch_payload_bytes"]) / max(1, live["batches"])
    which = "one run" if len(runs) == 1 else f"medians of {len(runs)} runs"
    print(f"Live view bandwidth: real JupyterLab + Chromium, a {DRIVE_S} s drive at 1x, {which} "
          f"(baseline from the same run); Python {sys.version.split()[0]}, {platform.machine()}")
    print(f"{'measure':<40} {'live view':>12} {'baseline: PNG per frame':>34} {'ratio':>7}  goal")
    print("-" * 128)
    raw = f"{f['png_raw_kBps']:.1f} kB/s at {f['png_fps']:.1f} PNG/s"
    per_30 = f"{f['png_frame_kB']:.2f} kB/frame x {FPS} = {f['png_30_kBps']:.1f} kB/s"
    print(f"{'kernel -> browser, bytes/s (as run)':<40} {f['live_kBps']:7.1f} kB/s {raw:>34} "
          f"{f['png_raw_kBps'] / f['live_kBps']:6.1f}x  <= {LIVE_GOAL_KBPS:g} kB/s per pupil: "
          f"{goal(live_ok)}")
    print(f"{'kernel -> browser, per 30 frames/s':<40} {f['live_kBps']:7.1f} kB/s {per_30:>34} "
          f"{f['ratio']:6.1f}x  PNG / live >= {RATIO_GOAL:g}x: {goal(ratio_ok)}")
    print(f"{'WebSocket messages/s':<40} {f['live_msgps']:10.1f} {f['png_msgps']:34.1f} "
          f"{f['png_msgps'] / f['live_msgps']:6.1f}x")
    print(f"{'frames drawn/s in the page':<40} {f['page_fps']:10.1f} {'':>34} {'':>7}  "
          f">= {PAGE_FPS_GOAL:g} frames/s: {goal(fps_ok)}")
    print()
    print(f"live (last run): window {live['seconds']:.2f} s (busy -> idle), {live['bytes']} B in "
          f"{live['messages']} messages; {live['batches']} frame batches carried "
          f"{live['sent_frames']} frames ({live['sent_frames'] / live['seconds']:.1f}/s, "
          f"{live['batch_payload_bytes']} B of binary payload, "
          f"{envelope:.0f} B of Jupyter message around each); "
          f"{live['pngs']} PNG picture(s) of the view ({live['png_bytes']} B base64)")
    print(f"  bytes by message type: {_fmt_types(live)}")
    print(f"  page: {live['page_frames']} frames drawn in {live['page_seconds']:.2f} s; "
          f"{live['page_frames_total']} once the last frames played; drive cell's view on "
          f"screen: {'yes' if live['view_on_screen'] else 'NO'}")
    print(f"PNG (last run): window {png['seconds']:.2f} s, {png['bytes']} B in {png['messages']} "
          f"messages, {png['pngs']} PNG frames ({png['png_bytes']} B of base64 PNG)")
    print(f"  bytes by message type: {_fmt_types(png)}")
    print(f"WebSocket compression negotiated: {live['compression']}; kB = 1000 B; bytes are "
          f"message payloads. Run time {time.monotonic() - started:.0f} s.")
    for side, result in (("live", live), ("PNG", png)):
        if result.get("page_errors"):
            print(f"page errors ({side}): {result['page_errors']}")
    return live_ok and ratio_ok and fps_ok


def _fmt_types(result: dict) -> str:
    sizes = sorted(result["bytes_by_type"].items(), key=lambda kv: -kv[1])
    return ", ".join(f"{kind} {size} B in {result['by_type'][kind]}" for kind, size in sizes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of both notebooks (fresh kernels); medians shown")
    parser.add_argument("--check", action="store_true", help="exit with 1 when a goal is missed")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)

    started = time.monotonic()
    runs: list[tuple[dict, dict]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="rl-bench-view-") as root, \
                harness.start_jupyter_server(Path(root), ARTIFACTS,
                                             log_name="view-bandwidth-jupyter.log") as server, \
                harness.chromium() as browser:
            for i in range(max(1, args.repeats)):
                live = run_notebook(browser, server, f"live-{i}.ipynb", LIVE_CELLS, live=True)
                png = run_notebook(browser, server, f"png-{i}.ipynb", PNG_CELLS, live=False)
                runs.append((live, png))
    except (Exception, pytest.fail.Exception) as error:  # noqa: BLE001
        print(f"view_bandwidth: could not measure: {error}", file=sys.stderr)
        return 2
    figures = median_of([summarise(live, png) for live, png in runs])
    ok = report(runs, figures, started)
    if args.json:
        print(json.dumps({"figures": figures, "runs": [{"live": live, "png": png}
                                                       for live, png in runs]}))
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
