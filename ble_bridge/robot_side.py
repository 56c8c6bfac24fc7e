"""The robot's side of the protocol as a pure state machine: what firmware does with frames.

No I/O, no threads, no asyncio: the owner hands in every client write
(``receive``), calls ``tick`` about every 10 ms and reports a lost link
(``link_lost``); answers go out through the injected ``send``, time comes from
the injected ``now``. The hardware is a ``RobotBody``, spoken to in wire units
(mm, centidegrees, ms, percent). It is the reference for firmware authors and
the brain of RobotLab's virtual test robots (``robotlab.emulate``).

    robot = RobotProtocol(body, short_id=0x07, send=notify, now=time.monotonic)
    robot.receive(write)       # from the BLE write handler
    robot.tick()               # every ~10 ms
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from .errors import ErrorCode, ProtocolError
from .frames import DEFAULT_FRAME_SIZE
from .handshake import PROTOCOL_VERSION
from .messages import (Ack, Beep, Capability, Done, Drive, Heartbeat, HeartbeatAck, Hello,
                       Identify, Info, Message, MotionState, MoveStraight, Nack, Resume, SetLed,
                       Stop, StopAll, Subscribe, Telemetry, Turn, encode)
from .reader import FrameReader

#: What RobotLab's classroom robot has: every capability of protocol 1.0.
ALL_CAPABILITIES = Capability(0x07FF)
#: Commands the robot remembers for de-duplication (docs/protocol.md, "Retransmission").
DEDUP_WINDOW = 8
#: Seconds after a lost link during which RESUME can continue that session (docs/protocol.md).
RESUME_WITHIN_S = 10.0
#: How many executed commands ``RobotProtocol.executed`` keeps (a day of heartbeats would not fit).
EXECUTED_KEPT = 1000
#: Seconds of slack when comparing times, so that 0.1 + 0.05 counts as 0.15.
_EPSILON_S = 1e-6
_FIRST_ROBOT_TYPE = 0x80        # types with bit 7 set go from robot to client


class RobotBody(Protocol):
    """What the protocol needs from the robot's hardware, in wire units.

    Distances in mm, angles in centidegrees (counterclockwise positive),
    speeds in percent of the robot's top speed, times in ms. Every command
    returns at once; the body moves on in its own time (the protocol never
    advances it: whoever owns the body runs its physics or its motors) and
    the protocol polls ``move_finished``, ``blocked`` and ``moving``.
    """

    #: The buzzer's range, Hz (lowest, highest); BEEP outside it is refused.
    buzzer_range_hz: tuple[int, int]

    def straight(self, distance_mm: int, speed_percent: int) -> None:
        """Start driving straight (negative = backward), replacing what the wheels did."""

    def turn(self, angle_cdeg: int, speed_percent: int) -> None:
        """Start turning in place, counterclockwise (left) for a positive angle."""

    def drive(self, left_percent: int, right_percent: int) -> None:
        """Run the wheels at these speeds (negative = backward) until told otherwise."""

    def brake(self) -> None:
        """Brake to a standstill at the normal deceleration (STOP); a finite move."""

    def halt(self) -> None:
        """Motors off at once, no ramp (STOP_ALL, watchdog, lost link, blocked)."""

    def stop_tone(self) -> None:
        """Silence the buzzer at once."""

    def set_led(self, red: int, green: int, blue: int) -> None:
        """Light the LED, 0-255 per channel; (0, 0, 0) is off."""

    def beep(self, frequency_hz: int, duration_ms: int) -> None:
        """Start a tone within ``buzzer_range_hz``, replacing any tone playing."""

    def identify(self, duration_ms: int) -> None:
        """Blink the LED white (and show the id) for ``duration_ms``, then restore it; 0 stops."""

    def move_finished(self) -> bool:
        """The latest straight, turn or brake has reached its distance, angle or standstill."""

    def blocked(self) -> bool:
        """The latest straight or turn cannot go on (bumper pressed ahead, stalled wheels)."""

    def moving(self) -> bool:
        """The wheels are turning."""

    def telemetry(self) -> Telemetry:
        """Every sensor now, as one TELEMETRY (heading and odometer wrapped to 24 bits).

        Fields of sensors the robot lacks are 0.
        """


@dataclass
class _Remembered:
    """A command in the de-duplication window, with the answers it got."""

    key: tuple[int, int, int]           # seq, type, crc
    answer: bytes = b""
    done: bytes | None = None


@dataclass
class _Previous:
    """The session a lost link ended, kept for RESUME until ``until_s`` (robot clock)."""

    token: int
    window: list[_Remembered]
    until_s: float


@dataclass
class _Motion:
    """A running MOVE_STRAIGHT, TURN or STOP."""

    seq: int
    command_type: int
    remembered: _Remembered


class RobotProtocol:
    """One robot's protocol state: session, de-duplication, motions, watchdog, telemetry.

    ``send(frame)`` transmits one notification; ``now()`` is the robot's
    clock in seconds. The other arguments are what INFO announces:
    ``watchdog_ms`` (100-2000), ``max_frame`` (bytes, 20-255) and
    ``min_telemetry_ms``, the robot's own telemetry rate limit. ``info`` is
    the INFO message answering HELLO; the capabilities in it decide which
    commands are UNSUPPORTED.

    For tests: ``executed`` holds (seq, type) of the latest commands carried
    out (not refused, not a retransmission); ``watchdog_trips`` counts the
    watchdog stops in this session; ``in_session`` tells whether HELLO has
    been answered with INFO on this link; ``session_token`` is the token of
    this session's INFO (None for a 1.0 client). ``session_tokens()`` picks a
    new token (1-65535) for every session, at random by default.
    """

    def __init__(self, body: RobotBody, *, short_id: int, send: Callable[[bytes], object],
                 now: Callable[[], float], profile_id: int = 1,
                 capabilities: Capability = ALL_CAPABILITIES, watchdog_ms: int = 500,
                 max_frame: int = DEFAULT_FRAME_SIZE, firmware: tuple[int, int, int] = (1, 0, 0),
                 min_telemetry_ms: int = 50,
                 session_tokens: Callable[[], int] | None = None):
        self.body = body
        # Constructing INFO now checks every value's range once.
        self.info = Info(*PROTOCOL_VERSION, *firmware, profile_id=profile_id,
                         capabilities=Capability(capabilities), max_frame_size=max_frame,
                         watchdog_ms=watchdog_ms, telemetry_min_interval_ms=min_telemetry_ms,
                         robot_id=short_id)
        self._send, self._now = send, now
        self._session_tokens = session_tokens or (lambda: random.randint(1, 0xFFFF))
        self.session_token: int | None = None
        self._previous: _Previous | None = None     # the lost session RESUME may continue
        self.executed: deque[tuple[int, int]] = deque(maxlen=EXECUTED_KEPT)
        self.watchdog_trips = 0
        self.in_session = False
        self._reader = FrameReader()
        self._window: deque[_Remembered] = deque(maxlen=DEDUP_WINDOW)
        self._motion: _Motion | None = None
        self._latest_motion = (0, MotionState.NONE)     # seq, state, for HEARTBEAT_ACK
        self._watchdog_deadline_s: float | None = None
        self._tone_until_s = float("-inf")
        self._subscription: Subscribe | None = None
        self._telemetry_seq = 0
        self._last_telemetry: Telemetry | None = None
        self._last_telemetry_s = float("-inf")
        self._next_periodic_s = float("inf")
        self._telemetry_pending = False

    # -- the owner's calls ------------------------------------------------------------

    def receive(self, data: bytes) -> None:
        """Handle one client write: whole frames, in order.

        A client never splits a frame across writes, so what is left over at
        the end of a write is garbage and is dropped, like every frame that
        fails its length or CRC check: silently.
        """
        self._check_watchdog()
        for item in self._reader.feed(data) + self._reader.flush():
            if isinstance(item, ProtocolError):
                if item.seq is None:
                    continue            # corrupted: its seq and type cannot be trusted
                self._refuse_malformed(item)
            else:
                self._handle(item.seq, item.message)
            self._feed_watchdog()

    def tick(self) -> None:
        """Let time pass: finished or blocked motions, the watchdog, telemetry. Every ~10 ms."""
        self._check_motion()
        self._check_watchdog()
        self._tick_telemetry()

    def link_lost(self) -> None:
        """The BLE link dropped: stop at once and end the session (kept for RESUME a while)."""
        interrupted = self._stop_everything()
        if interrupted is not None:     # unsent; a RESUMEd retransmission gets it
            interrupted.remembered.done = encode(Done(interrupted.command_type,
                                                      MotionState.INTERRUPTED), interrupted.seq)
        self._keep_for_resume()
        self._end_session()

    # -- dispatch -----------------------------------------------------------------------

    def _handle(self, seq: int, message: Message) -> None:
        if message.TYPE >= _FIRST_ROBOT_TYPE:
            self._nack_type(seq, message.TYPE, ErrorCode.UNKNOWN_TYPE)
        elif isinstance(message, StopAll):
            self._stop_all(seq)
        elif isinstance(message, Hello):
            self._hello(seq, message)
        else:
            self._command(seq, message)

    def _refuse_malformed(self, error: ProtocolError) -> None:
        """A well-framed frame of an unknown type, a wrong length or a bad value."""
        if error.frame_type >= _FIRST_ROBOT_TYPE:
            self._nack_type(error.seq, error.frame_type, ErrorCode.UNKNOWN_TYPE)
            return
        interrupted = self._stop_everything() if error.frame_type == StopAll.TYPE else None
        self._nack_type(error.seq, error.frame_type, error.error_code, error.detail)
        self._send_done(interrupted, MotionState.INTERRUPTED)

    def _command(self, seq: int, message: Message) -> None:
        """Any command but HELLO and STOP_ALL: de-duplicated, checked, carried out."""
        key = (seq, message.TYPE, encode(message, seq)[-1])
        for remembered in self._window:
            if remembered.key == key:
                self._send(remembered.answer)
                if remembered.done is not None:
                    self._send(remembered.done)
                return
        if not isinstance(message, (Heartbeat, Resume)):
            self._previous = None       # RESUME comes right after INFO or not at all
        remembered = _Remembered(key)
        self._window.append(remembered)
        refusal = self._refusal(message)
        if refusal is not None:
            self._answer(remembered, seq, Nack(message.TYPE, *refusal))
            return
        self.executed.append((seq, message.TYPE))
        # One handler per command, named after it: _on_move_straight, _on_set_led, ...
        handler = getattr(self, "_on_" + message.NAME.lower())
        handler(seq, message, remembered)

    def _refusal(self, message: Message) -> tuple[ErrorCode, int] | None:
        """(code, detail) of a NACK in the spec's order after the codec's checks, or None."""
        if not self.in_session:
            return ErrorCode.NOT_READY, 0
        if isinstance(message, Resume) and not self._resumable(message.session_token):
            return ErrorCode.NO_RESUME, 0
        needed = _NEEDS.get(type(message))
        if needed is not None and not self.info.capabilities & needed:
            return ErrorCode.UNSUPPORTED, needed.bit_length() - 1
        if isinstance(message, Beep):
            low, high = self.body.buzzer_range_hz
            if not low <= message.frequency_hz <= high:
                return ErrorCode.BAD_VALUE, 0   # payload offset of frequency_hz
        return None

    # -- session ------------------------------------------------------------------------

    def _hello(self, seq: int, hello: Hello) -> None:
        if hello.protocol_major != PROTOCOL_VERSION[0]:
            # Refused, so without effect: a running session goes on.
            self._nack_type(seq, Hello.TYPE, ErrorCode.VERSION, PROTOCOL_VERSION[0])
            return
        # The old session's motion ends before INFO, so what follows INFO is the new session's.
        self._send_done(self._stop_everything(), MotionState.INTERRUPTED)
        self._end_session()
        self.in_session = True
        self._reader.max_frame_size = min(hello.max_frame_size, self.info.max_frame_size)
        self.executed.append((seq, Hello.TYPE))
        # A 1.0 client knows no session token: its INFO is the 1.0 one, without it.
        token = None
        if hello.protocol_minor >= 1:
            token = self._session_tokens()
            while self._previous is not None and token == self._previous.token:
                token = self._session_tokens()
        self.session_token = token
        self._send(encode(replace(self.info, session_token=token), seq))

    def _keep_for_resume(self) -> None:
        """On a lost link: keep this session for RESUME, or the one before if this one did
        nothing yet (a reconnect whose link dropped again before RESUME)."""
        now = self._now()
        if self._previous is not None and now < self._previous.until_s:
            return
        self._previous = None
        if self.in_session and self.session_token is not None:
            self._previous = _Previous(self.session_token, list(self._window),
                                       now + RESUME_WITHIN_S)

    def _resumable(self, token: int) -> bool:
        previous = self._previous
        return previous is not None and previous.token == token and self._now() < previous.until_s

    def _end_session(self) -> None:
        self.in_session = False
        self._reader = FrameReader()
        self._window.clear()
        self.session_token = None
        self._motion = None
        self._latest_motion = (0, MotionState.NONE)
        self.watchdog_trips = 0
        self._watchdog_deadline_s = None
        self._subscription = None

    def _stop_all(self, seq: int) -> None:
        interrupted = self._stop_everything()
        self.executed.append((seq, StopAll.TYPE))
        self._send(encode(Ack(StopAll.TYPE), seq))
        self._send_done(interrupted, MotionState.INTERRUPTED)

    def _stop_everything(self) -> _Motion | None:
        """Motors and tone off at once; return the motion this interrupted (its DONE is unsent)."""
        self.body.halt()
        self.body.stop_tone()
        self._tone_until_s = float("-inf")
        return self._end_motion(MotionState.INTERRUPTED)

    # -- commands -----------------------------------------------------------------------

    def _on_heartbeat(self, seq: int, _message: Heartbeat, remembered: _Remembered) -> None:
        motion_seq, state = self._latest_motion
        self._answer(remembered, seq, HeartbeatAck(motion_seq, state, self.watchdog_trips % 256))

    def _on_resume(self, seq: int, message: Resume, remembered: _Remembered) -> None:
        """Continue the lost session: its window (answers and DONEs) comes back, before the
        few frames of this one (heartbeats, this RESUME); nothing else of it does."""
        previous, self._previous = self._previous, None
        window = previous.window + list(self._window)
        self._window.clear()
        self._window.extend(window)
        self._answer(remembered, seq, Ack(message.TYPE))

    def _on_identify(self, seq: int, message: Identify, remembered: _Remembered) -> None:
        self.body.identify(message.duration_ms)
        self._answer(remembered, seq, Ack(message.TYPE))

    def _on_move_straight(self, seq: int, message: MoveStraight, remembered: _Remembered) -> None:
        self._start_motion(seq, message, remembered,
                           lambda: self.body.straight(message.distance_mm, message.speed_percent))

    def _on_turn(self, seq: int, message: Turn, remembered: _Remembered) -> None:
        self._start_motion(seq, message, remembered,
                           lambda: self.body.turn(message.angle_cdeg, message.speed_percent))

    def _on_stop(self, seq: int, message: Stop, remembered: _Remembered) -> None:
        self._start_motion(seq, message, remembered, self.body.brake)

    def _on_drive(self, seq: int, message: Drive, remembered: _Remembered) -> None:
        interrupted = self._end_motion(MotionState.INTERRUPTED)
        self.body.drive(message.left_percent, message.right_percent)
        self._answer(remembered, seq, Ack(message.TYPE))
        self._send_done(interrupted, MotionState.INTERRUPTED)

    def _on_set_led(self, seq: int, message: SetLed, remembered: _Remembered) -> None:
        self.body.set_led(message.red, message.green, message.blue)
        self._answer(remembered, seq, Ack(message.TYPE))

    def _on_beep(self, seq: int, message: Beep, remembered: _Remembered) -> None:
        self.body.beep(message.frequency_hz, message.duration_ms)
        self._tone_until_s = self._now() + message.duration_ms / 1000
        self._answer(remembered, seq, Ack(message.TYPE))

    def _on_subscribe(self, seq: int, message: Subscribe, remembered: _Remembered) -> None:
        self._answer(remembered, seq, Ack(message.TYPE))
        everything_zero = not (message.period_ms or message.min_interval_ms
                               or message.distance_change_mm or message.on_change)
        self._subscription = None if everything_zero else message
        if self._subscription is not None:
            self._telemetry_pending = False
            self._send_telemetry(self.body.telemetry(), periodic=False)

    # -- motions ------------------------------------------------------------------------

    def _start_motion(self, seq: int, message: Message, remembered: _Remembered,
                      start: Callable[[], None]) -> None:
        """Replace the running motion (DONE INTERRUPTED after this one's ACK) and start."""
        interrupted = self._end_motion(MotionState.INTERRUPTED)
        start()
        self._answer(remembered, seq, Ack(message.TYPE))
        self._send_done(interrupted, MotionState.INTERRUPTED)
        self._motion = _Motion(seq, message.TYPE, remembered)
        self._latest_motion = (seq, MotionState.RUNNING)
        self._check_motion()            # a move of 0 mm completes at once

    def _check_motion(self) -> None:
        if self._motion is None:
            return
        if self.body.blocked():
            self.body.halt()
            self._send_done(self._end_motion(MotionState.BLOCKED), MotionState.BLOCKED)
        elif self.body.move_finished():
            self._send_done(self._end_motion(MotionState.COMPLETED), MotionState.COMPLETED)

    def _end_motion(self, state: MotionState) -> _Motion | None:
        """Mark the running motion as ended; return it so that its DONE can be sent."""
        motion, self._motion = self._motion, None
        if motion is not None:
            self._latest_motion = (motion.seq, state)
        return motion

    def _send_done(self, motion: _Motion | None, state: MotionState) -> None:
        if motion is None:
            return
        frame = encode(Done(motion.command_type, state), motion.seq)
        motion.remembered.done = frame
        self._send(frame)

    # -- watchdog -----------------------------------------------------------------------

    def _feed_watchdog(self) -> None:
        if self.in_session:
            self._watchdog_deadline_s = self._now() + self.info.watchdog_ms / 1000

    def _check_watchdog(self) -> None:
        deadline = self._watchdog_deadline_s
        now = self._now()
        if deadline is None or now < deadline - _EPSILON_S:
            return
        # One trip per silence: the next frame from the client re-arms it.
        self._watchdog_deadline_s = None
        if self.body.moving() or now < self._tone_until_s:
            self.watchdog_trips += 1
        self._send_done(self._stop_everything(), MotionState.INTERRUPTED)

    # -- telemetry ----------------------------------------------------------------------

    def _tick_telemetry(self) -> None:
        subscription = self._subscription
        if subscription is None:
            return
        now = self._now()
        periodic = bool(subscription.period_ms) and now >= self._next_periodic_s - _EPSILON_S
        reading = None
        if not (periodic or self._telemetry_pending) and (subscription.distance_change_mm
                                                          or subscription.on_change):
            reading = self.body.telemetry()
            self._telemetry_pending = self._changed(subscription, reading)
        if not (periodic or self._telemetry_pending):
            return
        interval_ms = max(subscription.min_interval_ms, self.info.telemetry_min_interval_ms)
        if now < self._last_telemetry_s + interval_ms / 1000 - _EPSILON_S:
            return                      # due, but delayed by the rate limit, never dropped
        self._send_telemetry(reading if reading is not None else self.body.telemetry(), periodic)

    def _changed(self, subscription: Subscribe, reading: Telemetry) -> bool:
        last = self._last_telemetry
        if subscription.distance_change_mm and (
                abs(reading.distance_mm - last.distance_mm) >= subscription.distance_change_mm):
            return True
        return subscription.on_change and (reading.sensor_bits != last.sensor_bits
                                           or reading.colour != last.colour)

    def _send_telemetry(self, reading: Telemetry, periodic: bool) -> None:
        now = self._now()
        period_s = self._subscription.period_ms / 1000
        if not period_s:
            self._next_periodic_s = float("inf")
        elif periodic and self._next_periodic_s + period_s > now:
            self._next_periodic_s += period_s       # keep the cadence despite tick jitter
        else:
            self._next_periodic_s = now + period_s  # "period_ms since the last one"
        self._last_telemetry, self._last_telemetry_s = reading, now
        self._telemetry_pending = False
        self._send(encode(reading, self._telemetry_seq))
        self._telemetry_seq = (self._telemetry_seq + 1) % 256

    # -- answers ------------------------------------------------------------------------

    def _answer(self, remembered: _Remembered, seq: int, message: Message) -> None:
        remembered.answer = encode(message, seq)
        self._send(remembered.answer)

    def _nack_type(self, seq: int, frame_type: int, code: ErrorCode, detail: int = 0) -> None:
        self._send(encode(Nack(frame_type, code, detail), seq))


#: The capability a command needs; IDENTIFY blinks the LED.
_NEEDS: dict[type[Message], Capability] = {
    MoveStraight: Capability.MOTORS, Turn: Capability.MOTORS, Drive: Capability.MOTORS,
    Stop: Capability.MOTORS, SetLed: Capability.LED, Identify: Capability.LED,
    Beep: Capability.BUZZER,
}
