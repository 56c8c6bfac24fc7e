"""A RobotLab robot over Bluetooth LE through bleak: scan, connect, command, stream telemetry.

    link = RobotLink()                       # bleak's backend for this computer
    link.scan()                              # [FoundRobot(name='RobotLab-07', short_id=7)]
    link.connect("RobotLab-07")              # or 7, or None for the only robot in range
    link.connect("zatug")                    # a micro:bit by the five letters of its name
    accepted = link.command(MoveStraight(200, 50))
    link.wait_done(accepted.seq)             # MotionState.COMPLETED
    link.latest_telemetry()                  # a TelemetryState, no round trip
    link.close()                             # STOP_ALL, disconnect, stop the thread

Only bleak's public API is used (``BleakScanner``, ``BleakClient``); the bleak
backend classes can be injected (``scanner_backend=``, ``client_backend=``),
which is how tests reach virtual robots (``ble_bridge.virtual.backends``).

One background thread owns an asyncio loop and the connection: it feeds the
notifications to the session (``ble_bridge.session``), sends heartbeats and
retransmissions, and reconnects after a lost link. The methods are
synchronous and may be called from any thread; each one waits a bounded time.
Errors are ``LinkError`` with a machine-readable ``reason`` (translating them
for pupils is the caller's business).

micro:bit robots (MakeCode firmware) advertise "BBC micro:bit [zatug]" and no
service UUID, so the scan has no service filter and keeps RobotLab names that
list the NUS UUID and micro:bit names. Their robot id comes from INFO: asked for
"RobotLab-07" when no robot advertises that name, the link connects to the
micro:bits in range one after the other, strongest signal first, reads each
one's INFO and keeps the one whose ``robot_id`` is 7 (within ``MATCH_WITHIN_S``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple, TypeVar

from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from .errors import ProtocolError
from .frames import MAX_FRAME_SIZE
from .gatt import (NAME_PREFIX, NUS_SERVICE_UUID, advertised_name, is_microbit_name,
                   microbit_name, robot_id_from_name, uart_roles)
from .messages import Ack, Info, Message, MotionState, Nack, Subscribe
from .session import (MAX_RETRANSMISSIONS, RETRANSMIT_AFTER_S, SILENCE_LIMIT_S, Answered,
                      ClientSession, Counters, GaveUp, HandshakeDone, LinkError, MotionEnded,
                      Outgoing, StopAllAcked, TelemetryReceived, TelemetryState, Unanswered,
                      VersionMismatch, is_motion)

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

#: Telemetry every 50 ms (the classroom robot's rate), early on line, bumper and colour changes.
DEFAULT_SUBSCRIPTION = Subscribe(period_ms=50, min_interval_ms=50, distance_change_mm=0,
                                 on_change=True)
#: Seconds to listen for robots when no name is given (every robot in range should be heard).
SCAN_S = 2.0
#: Seconds to look for a named robot before giving up.
FIND_S = 5.0
#: Seconds to try the micro:bits in range for a robot id no robot advertises.
MATCH_WITHIN_S = 15.0
CONNECT_TIMEOUT_S = 5.0
#: Seconds after a lost link during which the client keeps trying to reconnect.
RECONNECT_WITHIN_S = 8.0
RECONNECT_PAUSE_S = 0.2
#: Least time between two writes: one 7.5 ms connection interval, the shortest BLE has, so
#: a burst never queues more writes than a small robot reads per connection event.
WRITE_GAP_S = 0.0075
#: Seconds one write may take before the link counts as broken.
WRITE_TIMEOUT_S = 2.0
STOP_ALL_WAIT_S = 0.5
CLOSE_TIMEOUT_S = 3.0
#: Seconds a clean-up waits for a disconnection (a link that is going down anyway).
DROP_WAIT_S = 1.0
#: Motions whose outcome is kept for ``wait_done``; older ones are forgotten.
MAX_KEPT_MOTIONS = 64

READY, CONNECTING, RECONNECTING, LOST, CLOSED = "ready", "connecting", "reconnecting", "lost", "closed"


class FoundRobot(NamedTuple):
    """A robot heard while scanning: its advertised name and its short id (0-255), None for a
    micro:bit ("BBC micro:bit [zatug]"), whose id only its INFO tells."""

    name: str
    short_id: int | None


class _Heard(NamedTuple):
    """A robot's device as bleak found it, and how strongly it was heard (dBm)."""

    device: Any
    rssi: int


class Accepted(NamedTuple):
    """A command the robot accepted: its ``seq`` (for ``wait_done``) and the ACK."""

    seq: int
    ack: Ack


class _Connection:
    """One BLE link to the robot and what was learnt when it was made (loop thread)."""

    def __init__(self, client: BleakClient):
        self.client = client
        self.to_robot = ""
        self.from_robot = ""
        self.with_response = False
        self.lost = asyncio.Event()
        self.dropping: asyncio.Task | None = None   # the one disconnection of this link


_NAME_OR_ID = re.compile(re.escape(NAME_PREFIX.rstrip("-")) + r"-?([0-9a-f]{1,2})|([0-9a-f]{1,2})",
                         re.IGNORECASE)


def robot_name(robot: str | int) -> str:
    """The advertised name of ``robot``: a name in any case ("robotlab-3f"), the id's two hex
    digits ("3F") or the id as a number (63); or a micro:bit's five letters ("zatug") or whole
    name, giving "BBC micro:bit [zatug]". ValueError for anything else."""
    if isinstance(robot, int) and not isinstance(robot, bool):
        return advertised_name(robot)
    match = _NAME_OR_ID.fullmatch(str(robot).strip())
    if match is None:
        microbit = microbit_name(str(robot))
        if microbit is not None:
            return microbit
        raise ValueError(f"{robot!r} is no RobotLab robot name (RobotLab-00 to RobotLab-FF) "
                         "and no micro:bit's")
    return advertised_name(int(match.group(1) or match.group(2), 16))


def _wanted_name(robot: str | int) -> str:
    """``robot_name(robot)``, or the text as it is: an unknown name, reported with those found."""
    try:
        return robot_name(robot)
    except ValueError:
        return str(robot).strip()


class RobotLink:
    """The connection to one robot, kept alive by a background thread.

    Times in seconds. ``subscription`` is the telemetry asked for after every
    handshake; ``reconnect_within_s`` how long to try to get a lost link back;
    ``write_gap_s`` the least time between two writes. Writes go without
    response when the robot offers it (one packet per frame: the protocol's
    own ACK confirms each command), unless ``with_response=True``.
    """

    def __init__(self, *, scanner_backend: type | None = None, client_backend: type | None = None,
                 subscription: Subscribe = DEFAULT_SUBSCRIPTION,
                 retransmit_after_s: float = RETRANSMIT_AFTER_S,
                 max_retransmissions: int = MAX_RETRANSMISSIONS,
                 silence_limit_s: float = SILENCE_LIMIT_S,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 reconnect_within_s: float = RECONNECT_WITHIN_S,
                 write_gap_s: float = WRITE_GAP_S, with_response: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._subscription = subscription
        self._session_options = dict(retransmit_after_s=retransmit_after_s,
                                     max_retransmissions=max_retransmissions,
                                     silence_limit_s=silence_limit_s)
        self._connect_timeout_s = connect_timeout_s
        self._reconnect_within_s = reconnect_within_s
        self._write_gap_s = write_gap_s
        self._with_response = with_response
        self._clock = clock
        #: The robot's advertised name and its INFO, once connected.
        self.name: str | None = None
        self.info: Info | None = None
        #: How often the link was lost since ``connect`` (reconnected or not).
        self.losses = 0
        self.state = CONNECTING
        # Shared with other threads: immutable values, replaced whole, and this condition.
        self._changed = threading.Condition()
        self._telemetry: TelemetryState | None = None
        self._done: dict[int, concurrent.futures.Future[MotionEnded]] = {}
        self._command_lock = threading.Lock()
        # Loop thread only.
        self._session: ClientSession | None = None
        self._device = None
        self._conn: _Connection | None = None
        self._waiters: dict[int, asyncio.Future] = {}     # seq -> the answer's future
        self._hello_seq: int | None = None
        self._ticker: asyncio.Task | None = None
        self._stop_all_waiters: dict[int, asyncio.Future] = {}
        self._settled: asyncio.Future[bool] | None = None
        self._tasks: set[asyncio.Task] = set()
        self._disconnections: set[asyncio.Task] = set()
        self._last_write_at = float("-inf")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="robotlab-ble", daemon=True)
        self._thread.start()
        self._poke = self._made_on_loop(asyncio.Event)
        self._write_lock = self._made_on_loop(asyncio.Lock)

    def __repr__(self) -> str:
        return f"<RobotLink {self.name or '(not connected)'} {self.state}>"

    # -- synchronous API (any thread) ---------------------------------------------------

    def scan(self, timeout: float = SCAN_S) -> list[FoundRobot]:
        """The RobotLab robots and micro:bits advertising nearby, sorted by name; listens
        ``timeout`` s."""
        found = self._call(self._scan(timeout, None), timeout + CLOSE_TIMEOUT_S)
        return [FoundRobot(name, robot_id_from_name(name)) for name in sorted(found)]

    def connect(self, robot: str | int | None = None, *, scan_s: float = SCAN_S,
                find_s: float = FIND_S) -> Info:
        """Find ``robot`` (a name or short id as ``robot_name`` reads it, or None for the only
        robot in range), connect,
        agree on a session and subscribe to telemetry. Returns the robot's INFO.

        A robot id no robot advertises is looked for among the micro:bits in range
        by their INFO (see the module's docstring); ``self.name`` is then the
        micro:bit's advertised name.

        LinkError reasons: "no_bluetooth", "no_robot", "several_robots",
        "unknown_name", "connect_failed", "no_answer", "version", "refused".
        "unknown_name" has ``details["names"]`` (the names heard) and
        ``details["robot_ids"]`` (the ids learnt from micro:bits' INFO, by name).
        """
        wanted = None if robot is None else _wanted_name(robot)
        budget = (find_s if wanted else scan_s) + 2 * self._connect_timeout_s + 10.0
        if wanted is not None and robot_id_from_name(wanted) is not None:
            budget += MATCH_WITHIN_S
        return self._call(self._connect(wanted, scan_s, find_s), budget)

    def command(self, message: Message, timeout: float | None = None) -> Accepted:
        """Send ``message`` and wait for its ACK; retransmits, and waits through a reconnect.

        If the link drops before the answer, the command is sent again after the
        reconnect with its old ``seq`` when the robot RESUMEs the session (protocol
        1.1: it then runs at most once) or when running it twice is harmless.
        LinkError "refused" (``details["nack"]``), "no_answer", "link_interrupted"
        (a move or turn whose answer the lost link swallowed and the robot could not
        resume: not sent again, so it cannot run twice), "link_lost" or "closed".
        ``timeout`` (s) bounds the whole wait; by default the retransmissions and the
        reconnect bound it.
        """
        with self._command_lock:  # one command awaits its answer at a time
            return self._call(self._command(message), timeout)

    def wait_done(self, seq: int, timeout: float | None = None) -> MotionState:
        """Block until the motion with ``seq`` ends: COMPLETED, INTERRUPTED or BLOCKED.

        A motion stopped by a lost link raises LinkError "link_interrupted" once
        the link is back, or "link_lost" if it is not.
        """
        future = self._done.get(seq)
        if future is None:
            raise KeyError(f"no motion with seq {seq} is known")
        try:
            ended = future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise LinkError("no_answer", f"no DONE for seq {seq} within {timeout} s") from None
        if ended.link_lost:
            raise self._link_error_after_loss()
        return ended.status

    def motion_done(self, seq: int) -> bool:
        """Whether the motion with ``seq`` has ended (for any reason); unknown ones have."""
        future = self._done.get(seq)
        return future is None or future.done()

    def ended_by_lost_link(self, seq: int) -> bool:
        """Whether the motion with ``seq`` was stopped by a lost link."""
        future = self._done.get(seq)
        return (future is not None and future.done() and not future.cancelled()
                and future.result().link_lost)

    def stop_all(self, wait_s: float = STOP_ALL_WAIT_S) -> bool:
        """STOP_ALL now, past any command awaiting its answer. Never raises.

        Waits at most ``wait_s`` for the write, not for the ACK; False if it
        could not be written (no link: the robot stops on a lost link anyway).
        """
        try:
            return self._call(self._stop_all(), wait_s)
        except Exception:  # an emergency stop must never fail its caller
            logger.debug("STOP_ALL could not be sent", exc_info=True)
            return False

    def latest_telemetry(self) -> TelemetryState | None:
        """The newest telemetry received (None before the first frame). No round trip."""
        return self._telemetry

    def next_telemetry(self, after: int = 0, timeout: float = 1.0) -> TelemetryState:
        """The newest telemetry whose ``number`` is above ``after``, waiting at most ``timeout`` s.

        Waits through a reconnect within the timeout. LinkError "no_answer" when
        nothing new came, "link_lost" or "closed" when nothing will.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                telemetry = self._telemetry
                if telemetry is not None and telemetry.number > after:
                    return telemetry
                if self.state in (LOST, CLOSED):
                    raise LinkError(self.state if self.state == CLOSED else "link_lost")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LinkError("no_answer", f"no telemetry for {timeout} s")
                self._changed.wait(remaining)

    def wait_settled(self, timeout: float | None = None) -> str:
        """Wait while the link is being re-established; return the state (READY, LOST, ...)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        limit = self._reconnect_within_s + 2 * self._connect_timeout_s + 5.0
        deadline = min(deadline or float("inf"), time.monotonic() + limit)
        with self._changed:
            while self.state in (RECONNECTING, CONNECTING) and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return self.state

    def write_raw(self, data: bytes) -> bool:
        """Write bytes as they are, unframed (for tests and tools); False without a link."""
        return self._call(self._write(bytes(data)), CLOSE_TIMEOUT_S)

    @property
    def watchdog_trips(self) -> int:
        """Watchdog stops the robot reported in this session (modulo 256)."""
        return self._session.watchdog_trips if self._session else 0

    @property
    def counters(self) -> Counters:
        """Frames sent and received, retransmissions, corrupt and telemetry frames."""
        return self._session.counters if self._session else Counters()

    def close(self) -> None:
        """STOP_ALL, disconnect and stop the thread; bounded in time, idempotent, never raises."""
        if self.state == CLOSED and not self._thread.is_alive():
            return
        try:
            self._call(self._shutdown(), CLOSE_TIMEOUT_S)
        except Exception:
            logger.debug("closing the link did not finish cleanly", exc_info=True)
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CLOSE_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()
        self._set_state(CLOSED)

    def __enter__(self) -> RobotLink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- bridging threads -----------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def _call(self, coro: Coroutine[Any, Any, _T], timeout: float | None) -> _T:
        """Run ``coro`` on the link's loop and wait for it, at most ``timeout`` s."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("RobotLink's blocking methods cannot run on its own loop")
        if self._loop.is_closed() or not self._thread.is_alive():
            coro.close()
            raise LinkError("closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LinkError("no_answer", f"nothing within {timeout} s") from None
        except BaseException:
            future.cancel()  # e.g. KeyboardInterrupt from the kernel's stop button
            raise

    def _made_on_loop(self, make: Callable[[], _T]) -> _T:
        async def made() -> _T:
            return make()
        return self._call(made(), CLOSE_TIMEOUT_S)

    def _set_state(self, state: str) -> None:
        with self._changed:
            self.state = state
            self._changed.notify_all()

    def _link_error_after_loss(self) -> LinkError:
        state = self.wait_settled()
        if state == READY:
            return LinkError("link_interrupted", "the link was lost and is back; the robot stopped")
        return LinkError("closed" if state == CLOSED else "link_lost")

    # -- finding and connecting (loop thread) -----------------------------------------------

    async def _scan(self, duration_s: float, wanted: str | None,
                    settle_s: float | None = None) -> dict[str, _Heard]:
        """Names -> devices of the robots heard within ``duration_s``: RobotLab names that list
        the NUS UUID, and micro:bit names (whose advertising lists no UUID). Stops early at
        ``wanted``, or after ``settle_s`` if a micro:bit was heard by then."""
        seen: dict[str, _Heard] = {}
        found = asyncio.Event()

        def detected(device, advertisement) -> None:
            name = advertisement.local_name or device.name
            if not is_microbit_name(name):
                if robot_id_from_name(name) is None:
                    return
                if NUS_SERVICE_UUID not in (uuid.lower() for uuid in advertisement.service_uuids):
                    return
                name = advertised_name(robot_id_from_name(name))
            seen[name] = _Heard(device, advertisement.rssi)
            if name == wanted:
                found.set()

        try:
            # No service filter: a micro:bit does not advertise the NUS UUID.
            scanner = BleakScanner(detected, None, backend=self._scanner_backend)
            await scanner.start()
        except Exception as error:  # the platform's Bluetooth is missing, off or not allowed
            raise LinkError("no_bluetooth", f"{type(error).__name__}: {error}") from error
        try:
            first_s = duration_s if settle_s is None else min(settle_s, duration_s)
            try:
                await asyncio.wait_for(found.wait(), first_s)
            except TimeoutError:
                if not any(is_microbit_name(name) for name in seen) or settle_s is None:
                    await asyncio.wait_for(found.wait(), duration_s - first_s)
        except TimeoutError:
            pass
        finally:
            try:
                await scanner.stop()
            except Exception:
                logger.debug("stopping the scan failed", exc_info=True)
        return seen

    async def _connect(self, wanted: str | None, scan_s: float, find_s: float) -> Info:
        if self.state not in (CONNECTING,):
            raise LinkError("closed" if self.state == CLOSED else "connect_failed",
                            f"this link is {self.state}; make a new RobotLink")
        wanted_id = None if wanted is None else robot_id_from_name(wanted)
        seen = await self._scan(find_s if wanted else scan_s, wanted,
                                None if wanted_id is None else scan_s)
        if self._ticker is None:
            self._ticker = self._start(self._tick())
        if wanted is None:
            if not seen:
                raise LinkError("no_robot", "no RobotLab robot is advertising")
            if len(seen) > 1:
                raise LinkError("several_robots", ", ".join(sorted(seen)), names=sorted(seen))
            (wanted,) = seen
        elif wanted not in seen:
            microbits = sorted((name for name in seen if is_microbit_name(name)),
                               key=lambda name: (-seen[name].rssi, name))
            if wanted_id is None or not microbits:
                raise LinkError("unknown_name", wanted, wanted=wanted, names=sorted(seen),
                                robot_ids={})
            return await self._match(wanted, wanted_id, microbits, seen)
        return await self._open(wanted, seen[wanted].device)

    async def _open(self, name: str, device, robot_id: int | None = None) -> Info:
        """Connect to ``device`` and open a session; LinkError "wrong_robot" (the link let go)
        if ``robot_id`` is given and the robot's INFO says another."""
        self.name, self._device = name, device
        self._session = ClientSession(**self._session_options)
        self.info = await self._establish(robot_id)
        self._set_state(READY)
        return self.info

    async def _match(self, wanted: str, wanted_id: int, microbits: list[str],
                     seen: dict[str, _Heard]) -> Info:
        """Try each micro:bit in turn for the one whose INFO has ``wanted_id``, letting the
        others go; within MATCH_WITHIN_S. LinkError "unknown_name" if none has it."""
        deadline = self._clock() + MATCH_WITHIN_S
        robot_ids: dict[str, int] = {}
        for name in microbits:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            try:
                return await asyncio.wait_for(self._open(name, seen[name].device, wanted_id),
                                              remaining)
            except LinkError as error:
                if error.reason == "wrong_robot":
                    robot_ids[name] = error.details["robot_id"]
                logger.debug("%s is not %s: %s", name, wanted, error)
            except TimeoutError:
                logger.debug("no time left to try %s for %s", name, wanted)
            finally:
                if self.state != READY:
                    self.name = self._device = self._session = None
                    # Let it go before the next: a robot takes one connection at a time.
                    if self._disconnections:
                        await asyncio.wait(set(self._disconnections), timeout=DROP_WAIT_S)
        raise LinkError("unknown_name", wanted, wanted=wanted, names=sorted(seen),
                        robot_ids=robot_ids)

    async def _establish(self, robot_id: int | None = None) -> Info:
        """Connect to the device, find the UART, HELLO/INFO, RESUME, SUBSCRIBE; resend a parked
        command (or report it, if it may not run twice and the robot could not resume)."""
        session = self._session
        client = BleakClient(self._device, timeout=self._connect_timeout_s,
                             backend=self._client_backend,
                             disconnected_callback=lambda c: self._on_disconnected(conn))
        conn = _Connection(client)
        try:
            await asyncio.wait_for(client.connect(), self._connect_timeout_s + 1.0)
        except (BleakError, OSError, TimeoutError) as error:
            raise LinkError("connect_failed", f"{type(error).__name__}: {error}") from error
        try:
            service = client.services.get_service(NUS_SERVICE_UUID)
            if service is None:
                raise LinkError("connect_failed", "the device has no Nordic UART Service")
            try:
                roles = uart_roles((c.uuid, c.properties) for c in service.characteristics)
            except ProtocolError as error:
                raise LinkError("connect_failed", str(error)) from error
            writable = service.get_characteristic(roles.to_robot)
            without_response = "write-without-response" in writable.properties
            conn.to_robot, conn.from_robot = roles.to_robot, roles.from_robot
            conn.with_response = not without_response or (self._with_response
                                                          and roles.write_with_response)
            session.max_frame_size = max(20, min(MAX_FRAME_SIZE, client.mtu_size - 3))
            self._conn = conn
            await client.start_notify(roles.from_robot,
                                      lambda _characteristic, data: self._received(conn, data))
            info = await self._handshake(conn, robot_id)
            parked = session.unpark()
            if isinstance(parked, Unanswered):     # its caller hears "link_interrupted"
                self._resolve(self._waiters.get(parked.outgoing.seq), parked)
            elif parked is not None:
                await self._send(parked)
            return info
        except (Exception, asyncio.CancelledError) as error:
            if self._conn is conn:
                self._conn = None
            self._drop(conn)    # not awaited: a cancelled attempt must end at once
            if isinstance(error, (BleakError, OSError)) and not isinstance(error, LinkError):
                raise LinkError("connect_failed", f"{type(error).__name__}: {error}") from error
            raise

    async def _handshake(self, conn: _Connection, robot_id: int | None = None) -> Info:
        session = self._session
        hello = session.hello()
        self._hello_seq = hello.seq
        result = await self._until_lost(conn, self._exchange(hello))
        if isinstance(result, VersionMismatch):
            raise LinkError("version", f"the robot speaks protocol {result.robot_major}.x",
                            robot_major=result.robot_major)
        if robot_id is not None and result.info.robot_id != robot_id:
            raise LinkError("wrong_robot", f"robot id {result.info.robot_id}, not {robot_id}",
                            robot_id=result.info.robot_id)
        resume = session.resume()   # right after INFO, if a command awaits its answer
        if resume is not None:
            answer = await self._until_lost(conn, self._exchange(resume))
            logger.debug("RESUME %s", "accepted" if isinstance(answer, Ack) else "refused")
        answer = await self._until_lost(conn, self._exchange(session.command(self._subscription)))
        if isinstance(answer, Nack):
            raise LinkError("refused", f"SUBSCRIBE: {answer.code.name}", nack=answer)
        return result.info

    async def _until_lost(self, conn: _Connection, awaitable) -> Any:
        """``awaitable``'s result, or LinkError "connect_failed" if the link drops first."""
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(conn.lost.wait())
        try:
            done, _ = await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task not in done:
            raise LinkError("connect_failed", "the link dropped during the handshake")
        return task.result()

    # -- commands (loop thread) ----------------------------------------------------------------

    async def _command(self, message: Message) -> Accepted:
        session = await self._ready_session()
        while session.in_flight is not None:  # a command abandoned by a caller's timeout
            await asyncio.sleep(0.01)
            session = await self._ready_session()
        out = session.command(message)
        if is_motion(message):
            self._keep_motion(out.seq)
        result = await self._exchange(out)
        if isinstance(result, Unanswered):
            if out.seq in self._done:
                self._done.pop(out.seq).cancel()
            await self._wait_settled()
            if self.state == READY:
                raise LinkError("link_interrupted",
                                f"{message.NAME} was not sent again after the lost link")
            raise LinkError("closed" if self.state == CLOSED else "link_lost")
        if isinstance(result, Nack):
            self._done.pop(out.seq, None)
            raise LinkError("refused", f"{message.NAME}: {result.code.name}", nack=result)
        return Accepted(out.seq, result)

    async def _exchange(self, out: Outgoing) -> Any:
        """Send ``out`` and wait for its answer (retransmissions happen in ``_tick``)."""
        waiter = self._loop.create_future()
        self._waiters[out.seq] = waiter
        try:
            await self._send(out)
            return await waiter
        finally:
            if self._waiters.get(out.seq) is waiter:
                del self._waiters[out.seq]

    async def _ready_session(self) -> ClientSession:
        if self.state in (RECONNECTING, CONNECTING):
            await self._wait_settled()
        if self.state != READY:
            raise LinkError("closed" if self.state == CLOSED else "link_lost")
        return self._session

    async def _wait_settled(self) -> None:
        if self._settled is not None:
            await asyncio.shield(self._settled)

    def _keep_motion(self, seq: int) -> None:
        self._done[seq] = concurrent.futures.Future()
        while len(self._done) > MAX_KEPT_MOTIONS:
            oldest = next(iter(self._done))
            self._done.pop(oldest).cancel()

    async def _stop_all(self) -> bool:
        if self._conn is None or self._session is None:
            return False
        out = self._session.stop_all()
        return await self._send(out)

    # -- sending and receiving (loop thread) --------------------------------------------------

    async def _send(self, out: Outgoing) -> bool:
        self._session.sent(out, self._clock())
        self._poke.set()
        return await self._write(out.frame)

    async def _write(self, data: bytes) -> bool:
        async with self._write_lock:
            conn = self._conn
            if conn is None or conn.lost.is_set():
                return False
            pause = self._last_write_at + self._write_gap_s - self._clock()
            if pause > 0:
                await asyncio.sleep(pause)
            try:
                await asyncio.wait_for(conn.client.write_gatt_char(
                    conn.to_robot, data, response=conn.with_response), WRITE_TIMEOUT_S)
            except (BleakError, OSError, TimeoutError) as error:
                # The link is going down; the disconnection callback handles it.
                logger.debug("write failed: %s", error)
                return False
            finally:
                self._last_write_at = self._clock()
        return True

    def _received(self, conn: _Connection, data: bytes) -> None:
        if conn is not self._conn or self._session is None:
            return
        for event in self._session.receive(bytes(data), self._clock()):
            self._dispatch(event)
        self._poke.set()

    def _dispatch(self, event) -> None:
        if isinstance(event, TelemetryReceived):
            with self._changed:
                self._telemetry = event.state
                self._changed.notify_all()
        elif isinstance(event, (HandshakeDone, VersionMismatch)):
            self._resolve(self._waiters.get(self._hello_seq), event)
        elif isinstance(event, Answered):
            self._resolve(self._waiters.get(event.outgoing.seq), event.answer)
        elif isinstance(event, MotionEnded):
            future = self._done.get(event.seq)
            if future is not None and not future.done():
                future.set_result(event)
        elif isinstance(event, Unanswered):
            if not event.resend:
                self._resolve(self._waiters.get(event.outgoing.seq), event)
        elif isinstance(event, StopAllAcked):
            self._resolve(self._stop_all_waiters.pop(event.seq, None), event)
        elif isinstance(event, GaveUp):
            self._give_up(event)

    @staticmethod
    def _resolve(waiter: asyncio.Future | None, value: object) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(value)

    async def _tick(self) -> None:
        """Retransmissions, heartbeats and give-ups, each at its time."""
        while True:
            self._poke.clear()
            session, conn = self._session, self._conn
            if conn is not None and not conn.lost.is_set():
                for item in session.due(self._clock()):
                    if isinstance(item, GaveUp):
                        self._dispatch(item)
                        break
                    await self._send(item)
            deadline = session.next_deadline() if self._conn is not None else None
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            try:
                await asyncio.wait_for(self._poke.wait(), timeout)
            except TimeoutError:
                pass

    def _give_up(self, event: GaveUp) -> None:
        """No answer after every retransmission, or silence: the link counts as lost."""
        if event.outgoing is not None:
            waiter = self._waiters.get(event.outgoing.seq)
            if waiter is not None and not waiter.done():
                waiter.set_exception(
                    LinkError("no_answer", f"no answer to {event.outgoing.message.NAME}"))
        conn = self._conn
        if conn is not None:
            self._on_disconnected(conn)
            self._drop(conn)

    # -- losing and regaining the link (loop thread) --------------------------------------------

    def _on_disconnected(self, conn: _Connection) -> None:
        if conn.lost.is_set():
            return
        conn.lost.set()
        if conn is not self._conn:
            return
        self._conn = None
        if self.state != READY:
            return  # a handshake in progress fails by itself (``_until_lost``)
        self.losses += 1
        self._settled = self._loop.create_future()
        self._set_state(RECONNECTING)
        for event in self._session.link_lost():
            self._dispatch(event)
        self._start(self._reconnect())

    async def _reconnect(self) -> None:
        deadline = self._clock() + self._reconnect_within_s
        while self._clock() < deadline and self.state == RECONNECTING:
            try:
                self.info = await asyncio.wait_for(self._establish(), max(0.1, deadline - self._clock()))
            except (LinkError, TimeoutError) as error:
                logger.debug("reconnecting to %s failed: %s", self.name, error)
                await asyncio.sleep(RECONNECT_PAUSE_S)
                continue
            self._settle(READY)
            return
        parked = self._session.drop_parked()
        if parked is not None:
            waiter = self._waiters.get(parked.seq)
            if waiter is not None and not waiter.done():
                waiter.set_exception(LinkError("link_lost"))
        if self.state == RECONNECTING:
            self._settle(LOST)

    def _settle(self, state: str) -> None:
        self._set_state(state)
        if self._settled is not None and not self._settled.done():
            self._settled.set_result(state == READY)

    def _drop(self, conn: _Connection) -> asyncio.Task:
        """Start disconnecting ``conn``, once however often asked; returns the task doing it."""
        if conn.dropping is None:
            conn.dropping = self._start(self._disconnect(conn.client))
            self._disconnections.add(conn.dropping)
            conn.dropping.add_done_callback(self._disconnections.discard)
        return conn.dropping

    async def _disconnect(self, client: BleakClient) -> None:
        try:
            await asyncio.wait_for(client.disconnect(), self._connect_timeout_s)
        except Exception:
            logger.debug("disconnecting failed", exc_info=True)

    def _start(self, coro: Coroutine) -> asyncio.Task:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _shutdown(self) -> None:
        was_ready = self.state == READY
        self._settle(CLOSED)
        conn = self._conn
        if conn is not None and was_ready:
            out = self._session.stop_all()
            waiter = self._stop_all_waiters[out.seq] = self._loop.create_future()
            if await self._send(out):
                try:
                    await asyncio.wait_for(waiter, STOP_ALL_WAIT_S)
                except TimeoutError:
                    pass
        self._conn = None
        if conn is not None:
            conn.lost.set()
            await asyncio.wait({self._drop(conn)}, timeout=DROP_WAIT_S)
        for waiter in self._waiters.values():
            if not waiter.done():
                waiter.set_exception(LinkError("closed"))
        for future in self._done.values():
            future.cancel()
        tasks = [task for task in self._tasks if task is not asyncio.current_task()]
        for task in tasks:
            if task not in self._disconnections:  # cut short, it could leave the robot connected
                task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=DROP_WAIT_S)


__all__ = ["RobotLink", "FoundRobot", "Accepted", "LinkError", "robot_name",
           "DEFAULT_SUBSCRIPTION", "READY", "RECONNECTING", "LOST", "CLOSED"]
