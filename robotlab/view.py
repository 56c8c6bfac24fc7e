"""The live simulator view: a canvas in the notebook that follows the robots.

One view per world (several robots in one world share it, in their own
colours). The arena is sent once; after that the kernel streams small binary
frames: each robot's pose, LED, sensor values and the new points of its trail.
Frames are sampled on the kernel's main thread after each step of virtual time
(at most ``SAMPLE_HZ`` per second of wall time) and sent in batches every
``SEND_INTERVAL_S`` by one sender thread, so the Jupyter message envelope
(about half a kilobyte) is paid ten times a second, not thirty. The page plays
the frames back at the times they were taken, a little delayed, so the motion
stays smooth.

Buttons: trail on/off acts in the page alone. Stop, pause, speed and reset go
to the kernel through the server extension (``robotlab.server`` ->
``robotlab.control``), which works while a cell runs; without the extension
they fall back to a widget message (acted on between cells) and, for Stop, the
server's kernel interrupt.

The view's display also carries a PNG of the world (arena and trails), updated
after each cell, for places without a widget front end: nbconvert, exported
HTML, grading feedback.
"""

from __future__ import annotations

import base64
import math
import os
import signal
import struct
import threading
import time
import uuid
import weakref
from pathlib import Path

from simulator import sensors
from simulator.colours import COLOUR_IDS

from . import colours as colour_names
from .i18n import language, message

STATIC = Path(__file__).with_name("static")
#: Frames per second of wall time, at most.
SAMPLE_HZ = 30
#: A frame is taken when at least this long (s) has passed since the last one.
SAMPLE_MIN_S = 1 / SAMPLE_HZ - 0.003
#: Frames are sent in batches this often (s). Each Jupyter message costs about
#: 600 bytes of headers, so four batches a second, not thirty messages.
SEND_INTERVAL_S = 0.25
#: After Stop, how long (s) the pupil's code gets to notice before it is interrupted.
STOP_GRACE_S = 0.5
#: After the first cell with a view, how long (s) to wait for a browser to say it
#: draws views, before deciding there is none (nbconvert, grading) and showing pictures.
FRONTEND_WAIT_S = 1.5

#: Set when a browser has drawn a view in this kernel (its "hello").
frontend_seen = threading.Event()
_no_frontend = False
PICTURE_WIDTH_PX = 480
FLOOR_MAX_PX = 800
#: Layout of the binary frames, little-endian (docs/architecture.md; static/view.js parses them):
#: a batch is ``uint8 FORMAT, uint8 n_frames`` and its frames; a frame is _FRAME_HEAD and
#: per robot _ROBOT, then n_points _POINT, then ``uint8 n_beeps`` and n_beeps _BEEP.
FORMAT = 2
_FRAME_HEAD = struct.Struct("<IfB")     # wall ms since the view was made, virtual s, robots
# x, y (mm), theta (1e-4 rad), distance (mm), reflection left, right (%), odometer (cm),
# heading (deg), LED r, g, b, colour index, flags, n_points
_ROBOT = struct.Struct("<hhhHBBffBBBbBH")
_POINT = struct.Struct("<hh")           # a trail point, mm
_BEEP = struct.Struct("<HH")            # hz, ms
FLAG_BUMPED, FLAG_MOVING = 1, 2
#: The points that follow are the whole trail (after a reset), not new points.
FLAG_TRAIL_REPLACE = 4
#: The robot's pose in this frame is a new trail point (sent instead of the point).
FLAG_TRAIL_HERE = 8


def _clamp(value: int, limit: int) -> int:
    return max(-limit, min(limit, value))


def _mm(cm: float) -> int:
    """Centimetres as whole millimetres in an int16 (±32.7 m covers any classroom arena)."""
    return _clamp(round(cm * 10), 32767)

LABEL_KEYS = ("stop", "pause", "resume", "speed", "fastest", "reset", "trail", "distance",
              "line", "colour", "heading", "odometer", "time", "running", "paused",
              "stopped", "still", "line_sides", "sound", "title")


def labels(lang: str | None = None) -> dict:
    """Every text the view shows, in the pupil's language."""
    lang = lang or language()
    texts = {key: message(f"view_{key}", lang=lang) for key in LABEL_KEYS}
    texts["colours"] = {cid: colour_names.name_of(cid, lang) if cid in colour_names.NAMES
                        else cid for cid in COLOUR_IDS}
    return texts


def arena_state(arena) -> dict:
    """The arena as the page draws it: size, walls, goal zones, floor picture."""
    from simulator.pg import pygame
    from simulator.render import png_bytes
    floor = arena.floor
    width, height = floor.get_size()
    if width > FLOOR_MAX_PX:
        floor = pygame.transform.smoothscale(floor.convert(24) if floor.get_bitsize() not in (24, 32)
                                             else floor,
                                             (FLOOR_MAX_PX, round(height * FLOOR_MAX_PX / width)))
    return {
        "name": arena.name,
        "width_cm": arena.width_cm, "height_cm": arena.height_cm,
        "walls": [[w.x1, w.y1, w.x2, w.y2] for w in arena.walls],
        "goals": [[z.x_cm, z.y_cm, z.width_cm, z.height_cm, z.name] for z in arena.goals],
        "floor": "data:image/png;base64," + base64.b64encode(png_bytes(floor)).decode("ascii"),
        "colour_ids": list(COLOUR_IDS),
    }


def robot_state(body) -> dict:
    p = body.profile

    def point(sensor):
        return [sensor.x_cm, sensor.y_cm]

    return {
        "name": body.name,
        "colour": "#%02x%02x%02x" % tuple(body.colour),
        "radius_cm": p.radius_cm,
        "distance_sensor": point(p.distance_sensor),
        "distance_max_cm": p.distance_max_cm,
        "line_left": point(p.line_left), "line_right": point(p.line_right),
        "colour_sensor": point(p.colour_sensor),
        "line_threshold": p.line_threshold_percent,
    }


def _widget_class():
    import anywidget
    import traitlets

    class WorldView(anywidget.AnyWidget):
        """The live view's widget; see ``robotlab.view``."""

        _esm = (STATIC / "view.js").read_text(encoding="utf-8")
        _css = (STATIC / "view.css").read_text(encoding="utf-8")
        view_id = traitlets.Unicode("").tag(sync=True)
        kernel_id = traitlets.Unicode("").tag(sync=True)
        arena = traitlets.Dict().tag(sync=True)
        robots = traitlets.List().tag(sync=True)
        labels = traitlets.Dict().tag(sync=True)
        speed = traitlets.Unicode("1").tag(sync=True)
        paused = traitlets.Bool(False).tag(sync=True)
        stopped = traitlets.Bool(False).tag(sync=True)

        def __repr__(self):
            return f"<RobotLab live view: {self.arena.get('name', '')}>"

        def _repr_mimebundle_(self, **kwargs):
            data, metadata = super()._repr_mimebundle_(**kwargs)
            owner = self._robotlab_view() if getattr(self, "_robotlab_view", None) else None
            # A browser that draws views needs no picture when the view appears; the
            # picture at the end of the cell (refresh_picture) is what a saved notebook keeps.
            if owner is not None and (owner._picture_due or not frontend_seen.is_set()):
                data["image/png"] = base64.b64encode(owner.picture()).decode("ascii")
            return data, metadata

    return WorldView


_widget_type = None


def speed_name(speedup: float) -> str:
    if not math.isfinite(speedup):
        return "max"
    for name, value in (("1", 1.0), ("2", 2.0), ("5", 5.0)):
        if abs(speedup - value) < 1e-9:
            return name
    return "1"


class LiveView:
    """The live view of one world, kernel side."""

    def __init__(self, controls, kernel_id: str = ""):
        global _widget_type
        if _widget_type is None:
            _widget_type = _widget_class()
        self.controls = controls
        self.world = controls.world
        self.id = uuid.uuid4().hex
        self._origin = time.monotonic()
        self._last_sample = -math.inf
        self._dirty = False
        self._batch: list[bytes] = []
        self._batch_lock = threading.Lock()
        self._trails: dict[int, tuple[int, int]] = {}   # robot index -> (id of trail list, points sent)
        self._beeps: dict[int, tuple[int, int]] = {}    # robot index -> (id of beep list, beeps sent)
        self._display_id = None       # the display in the running cell, if any
        self._picture_due = False     # the next bundle must carry the PNG
        self._shown_version = None
        self.widget = _widget_type(view_id=self.id, kernel_id=kernel_id,
                                   arena=arena_state(self.world.arena),
                                   robots=[robot_state(r) for r in self.world.robots],
                                   labels=labels(), speed=speed_name(controls.pacer.speedup))
        self.widget._robotlab_view = weakref.ref(self)
        self.widget.on_msg(self._on_browser_message)
        controls.watchers.append(self._on_step)
        with controls.lock:
            self._sample(time.monotonic())
        _views[self.id] = self
        _sender.start()

    # -- robots joining -----------------------------------------------------------
    def robots_changed(self) -> None:
        self.widget.robots = [robot_state(r) for r in self.world.robots]
        with self.controls.lock:
            self._sample(time.monotonic())

    # -- frames -------------------------------------------------------------------
    def _on_step(self, world) -> None:
        """After each step of virtual time (main thread, world lock held)."""
        if self._display_id is None and threading.current_thread() is threading.main_thread():
            from . import notebook
            if notebook.executing():
                self.display()      # every cell that moves a robot shows it live
        now = time.monotonic()
        # Paced, each step is one frame of wall time already; unpaced, steps can
        # come thousands a second, so take at most SAMPLE_HZ.
        if self.controls.pacer.paced or now - self._last_sample >= SAMPLE_MIN_S:
            self._sample(now)
        else:
            self._dirty = True

    def _sample(self, now: float) -> None:
        """One frame of every robot; the caller holds the world lock."""
        self._last_sample, self._dirty = now, False
        world = self.world
        frame = bytearray(_FRAME_HEAD.pack(min(int((now - self._origin) * 1000), 2**32 - 1),
                                           world.time_s, min(len(world.robots), 255)))
        for index, body in enumerate(world.robots[:255]):
            left, right = sensors.reflection(world, body, noisy=False)
            flags = (FLAG_BUMPED if sensors.bumped(body) else 0) | \
                (FLAG_MOVING if body.moving else 0)
            try:
                colour = COLOUR_IDS.index(sensors.colour(world, body))
            except ValueError:
                colour = -1
            seen_list, sent = self._trails.get(index, (None, 0))
            trail = body.trail
            if seen_list != id(trail) or sent > len(trail):
                flags |= FLAG_TRAIL_REPLACE
                new_points = trail
            else:
                new_points = trail[sent:]
                if new_points == [(body.x, body.y)]:
                    # The usual case: the new trail point is where the robot is now.
                    flags |= FLAG_TRAIL_HERE
                    new_points = []
            self._trails[index] = (id(trail), len(trail))
            theta = math.remainder(body.theta, math.tau)
            frame += _ROBOT.pack(_mm(body.x), _mm(body.y), _clamp(round(theta * 10000), 32767),
                                 min(65535, round(sensors.distance_cm(world, body, noisy=False) * 10)),
                                 round(left), round(right), sensors.odometer_cm(body),
                                 sensors.heading_deg(body, noisy=False), *body.led_rgb, colour, flags,
                                 min(len(new_points), 65535))
            for x, y in new_points[:65535]:
                frame += _POINT.pack(_mm(x), _mm(y))
            beeps = body.beeps
            seen_list, sent = self._beeps.get(index, (id(beeps), 0))
            new_beeps = beeps[sent:] if seen_list == id(beeps) and sent <= len(beeps) else beeps
            self._beeps[index] = (id(beeps), len(beeps))
            new_beeps = new_beeps[-255:]
            frame.append(len(new_beeps))
            for _, hz, seconds in new_beeps:
                frame += _BEEP.pack(min(65535, round(hz)), min(65535, round(seconds * 1000)))
        with self._batch_lock:
            self._batch.append(bytes(frame))

    def flush(self) -> int:
        """Send the frames taken so far in one message; returns the bytes of payload sent."""
        if self._dirty and self.controls.lock.acquire(timeout=0.05):
            try:
                if self._dirty:
                    self._sample(time.monotonic())
            finally:
                self.controls.lock.release()
        with self._batch_lock:
            batch, self._batch = self._batch, []
        sent = 0
        for start in range(0, len(batch), 255):
            part = batch[start:start + 255]
            data = bytes((FORMAT, len(part))) + b"".join(part)
            self.widget.send({"k": "f"}, buffers=[data])
            sent += len(data)
        return sent

    # -- buttons ------------------------------------------------------------------
    def _on_browser_message(self, widget, content, buffers) -> None:
        """The fallback path: a button's message, handled between cells."""
        if isinstance(content, dict) and content.get("action"):
            try:
                self.act(content["action"], content.get("value"))
            except (KeyError, ValueError):
                pass

    def act(self, action: str, value=None) -> dict:
        """Carry out a button press (from any thread)."""
        from . import control, notebook
        controls = self.controls
        if action == "hello":
            frontend_seen.set()
        elif action == "stop":
            self.widget.stopped = True
            controls.request_stop()
            if notebook.executing():
                _interrupt_if_unnoticed(controls)
            else:
                controls.clear_requests()
                self.widget.paused = False
        elif action == "pause":
            controls.paused = True
            self.widget.paused = True
        elif action == "resume":
            controls.paused = False
            self.widget.paused = False
        elif action == "speed":
            speedup = control.SPEEDS[str(value)]
            controls.set_speedup(speedup)
            self.widget.speed = str(value)
        elif action == "reset":
            if notebook.executing():
                controls.request_stop()
                _interrupt_if_unnoticed(controls)
            controls.reset_world()
            self.widget.stopped = False
        return {"view": self.id, "paused": controls.paused, "speed": self.widget.speed}

    def cell_started(self) -> None:
        self._display_id = None
        self.controls.clear_requests()
        if self.widget.paused:
            self.widget.paused = False
        if self.widget.stopped:
            self.widget.stopped = False

    # -- the static picture ------------------------------------------------------------
    def picture(self) -> bytes:
        from simulator.render import render_png
        with self.controls.lock:
            self._shown_version = self.world.version
            return render_png(self.world, PICTURE_WIDTH_PX)

    def display(self) -> None:
        """Show the view in the running cell's output (the same robots as every other copy).

        Once it is clear that nothing draws widgets (no browser said hello:
        nbconvert, grading), a picture is shown instead.
        """
        from IPython.display import display
        self._display_id = uuid.uuid4().hex
        display(self._shown_thing(), display_id=self._display_id)

    def _shown_thing(self):
        if _no_frontend and not frontend_seen.is_set():
            from IPython.display import Image
            return Image(data=self.picture())
        return self.widget

    def refresh_picture(self) -> None:
        """After a cell: renew the PNG in this cell's display, for places without widgets.

        The first time, wait briefly for a browser's hello; without one, the
        cell's display becomes a plain picture, so exported HTML shows the
        arena and not an empty widget.
        """
        global _no_frontend
        if self._display_id is None:
            return
        if not frontend_seen.is_set() and not _no_frontend:
            if not (self.controls.pacer.paced and frontend_seen.wait(FRONTEND_WAIT_S)):
                _no_frontend = True
        if self._shown_version != self.world.version or \
                (_no_frontend and not frontend_seen.is_set()) or frontend_seen.is_set():
            from IPython.display import update_display
            self._picture_due = True
            try:
                update_display(self._shown_thing(), display_id=self._display_id)
            finally:
                self._picture_due = False


def _interrupt_if_unnoticed(controls) -> None:
    """If the pupil's code does not reach the robot soon (a sleep, a long
    calculation), interrupt it the way the kernel's stop button does."""
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline:
        if not controls.stop_requested:
            return
        time.sleep(0.01)
    from . import notebook
    if controls.stop_requested and notebook.executing():
        os.kill(os.getpid(), signal.SIGINT)


_views: "weakref.WeakValueDictionary[str, LiveView]" = weakref.WeakValueDictionary()


class _Sender:
    """One thread for all views: sends each view's frames every SEND_INTERVAL_S."""

    def __init__(self):
        self._thread = None
        self._lock = threading.Lock()
        #: Payload bytes sent, for benchmarks.
        self.bytes_sent = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="robotlab-view",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(SEND_INTERVAL_S)
            for view in list(_views.values()):
                try:
                    self.bytes_sent += view.flush()
                except Exception:  # a closed comm must not end the sender
                    pass


_sender = _Sender()


def view_by_id(view_id: str) -> LiveView | None:
    return _views.get(view_id)


def all_views() -> list[LiveView]:
    return list(_views.values())
