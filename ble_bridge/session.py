"""The client's side of a session with a robot: sequence numbers, answers, timers. No I/O.

A transport (bleak, the browser relay) does the writing, the waiting and the
reconnecting; this module decides what to send and what arrived means:

    session = ClientSession()
    hello = session.hello()                    # an Outgoing: write hello.frame
    session.sent(hello, now)
    for event in session.receive(data, now):   # bytes from a notification
        ...                                    # HandshakeDone, Answered, MotionEnded, ...
    for item in session.due(now):              # retransmissions, heartbeats, give-ups
        ...

Times are the caller's clock in seconds (``time.monotonic()`` in a
transport, anything in tests). Rules from docs/protocol.md:

- every frame gets the next ``seq`` (u8, wrapping), heartbeats and STOP_ALL
  included; a retransmission is the identical frame, same ``seq``, so the
  robot de-duplicates it;
- at most one command awaits its answer (HEARTBEAT and STOP_ALL aside);
  no answer within ``retransmit_after_s`` → send it again; after
  ``max_retransmissions`` unanswered copies the link counts as lost;
- a motion (MOVE_STRAIGHT, TURN, STOP) ends with DONE; a lost DONE is
  recovered from the next HEARTBEAT_ACK;
- a frame goes out at least every ``watchdog_ms / 3`` (a HEARTBEAT if
  nothing else), so two lost heartbeats in a row never stop the robot;
- TELEMETRY's wrapping counters are unwrapped into running totals.

A lost link ends the session on the robot, which stops. A motion that was
running then ends with ``link_lost=True``. A command still awaiting its answer
may or may not have reached the robot. With a robot of protocol 1.1 (its INFO
has a ``session_token``) the command is parked, and after the new handshake
``resume()`` gives a RESUME to send: if the robot ACKs it, it kept its
de-duplication window, and ``unpark`` sends the command once more with its old
``seq``: it runs at most once (a motion the lost link stopped ends with
``link_lost=True``). Without a resume (a 1.0 robot, or NACK NO_RESUME) the
command is sent again only if running it twice is harmless; a MOVE_STRAIGHT or
TURN ends as ``Unanswered(resend=False)``, the robot standing still.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .errors import ErrorCode, ProtocolError
from .frames import DEFAULT_FRAME_SIZE, MAX_FRAME_SIZE
from .handshake import PROTOCOL_VERSION, Agreement, check_compatible, negotiate
from .messages import (NO_ECHO, Ack, Colour, Decoded, Done, Heartbeat, HeartbeatAck, Hello,
                       Info, Message, MotionState, MoveStraight, Nack, Resume, SensorBits, Stop,
                       StopAll, Telemetry, Turn, encode, unwrap)
from .reader import FrameReader

#: Seconds without an answer before a command is sent again (docs/protocol.md).
RETRANSMIT_AFTER_S = 0.5
#: Unanswered retransmissions after which the link counts as lost.
MAX_RETRANSMISSIONS = 3
#: Seconds without any frame from the robot, during a session, before it counts as gone.
#: Telemetry and heartbeat answers normally arrive many times a second.
SILENCE_LIMIT_S = 2.0
#: Heartbeats remembered for matching their answers; older ones are forgotten.
MAX_OPEN_HEARTBEATS = 8

#: Commands that end with a DONE.
MOTION_TYPES = frozenset({MoveStraight.TYPE, Turn.TYPE, Stop.TYPE})


class LinkError(ConnectionError):
    """The robot cannot be reached, found or used; ``reason`` says why, for translation.

    Reasons: "no_bluetooth" (no usable Bluetooth adapter), "no_robot" (no robot
    in range), "several_robots" (``names``: more than one, none chosen),
    "unknown_name" (``names``: the robots that were found), "connect_failed",
    "no_answer" (the robot stays silent), "version" (``robot_version``: the
    robot speaks another major version), "refused" (``nack``: a NACK),
    "link_lost" (the link went down and did not come back), "link_interrupted"
    (the link went down while the robot moved and came back; the robot
    stopped), "closed" (used after ``close()``).
    """

    def __init__(self, reason: str, text: str = "", **details):
        self.reason = reason
        self.text = text
        self.details = details
        super().__init__(f"{reason}: {text}" if text else reason)


@dataclass(eq=False)
class Outgoing:
    """A frame the client sends, with what it needs for retransmission."""

    seq: int
    message: Message
    frame: bytes
    #: Sent once more after a reconnect if the lost link swallowed its answer, even when
    #: the robot could not RESUME (running it twice is harmless).
    resend_after_reconnect: bool = False
    sent_at: float | None = None
    retransmissions: int = 0


@dataclass(frozen=True)
class TelemetryState:
    """The newest sensor values, with the robot's wrapping counters unwrapped.

    Wire units: mm, centidegrees, ms, percent. ``distance_mm`` is None when
    nothing is within the sensor's range. ``number`` counts the frames this
    client has received (it never wraps), ``received_at`` is the client's clock.
    """

    number: int
    received_at: float
    time_ms: int
    distance_mm: int | None
    reflection_left_percent: int
    reflection_right_percent: int
    line_left: bool
    line_right: bool
    bumped: bool
    colour: Colour
    heading_cdeg: int
    odometer_mm: int


# -- events: what received bytes and timers mean --------------------------------

class HandshakeDone(NamedTuple):
    """INFO arrived and the versions match: the session is open."""

    info: Info
    agreement: Agreement


class VersionMismatch(NamedTuple):
    """The robot speaks another major version (NACK VERSION or an INFO of another major)."""

    robot_major: int
    robot_minor: int | None


class Answered(NamedTuple):
    """The command awaiting its answer (RESUME included) got an ACK or a NACK."""

    outgoing: Outgoing
    answer: Ack | Nack


class Unanswered(NamedTuple):
    """The link went down while ``outgoing`` awaited its answer. With ``resend`` it is
    parked for the next handshake (``unpark`` sends it again, or reports it as
    ``Unanswered(resend=False)`` if it may not run twice and RESUME failed); without, it
    is dropped."""

    outgoing: Outgoing
    resend: bool


class MotionEnded(NamedTuple):
    """A motion's DONE (or what a heartbeat answer or a lost link says about it)."""

    seq: int
    command_type: int
    status: MotionState
    link_lost: bool = False


class StopAllAcked(NamedTuple):
    seq: int


class HeartbeatAnswered(NamedTuple):
    seq: int
    answer: HeartbeatAck


class TelemetryReceived(NamedTuple):
    state: TelemetryState


class Corrupt(NamedTuple):
    """Bytes that were no valid frame (reported once per loss of sync) or an invalid message."""

    error: ProtocolError


class Unmatched(NamedTuple):
    """A valid frame that answers nothing waiting (e.g. a retransmission's second answer)."""

    decoded: Decoded


class GaveUp(NamedTuple):
    """No answer to ``outgoing`` after every retransmission, or (``outgoing`` None) nothing
    at all from the robot for ``SILENCE_LIMIT_S``: treat the link as lost."""

    outgoing: Outgoing | None


Event = (HandshakeDone | VersionMismatch | Answered | Unanswered | MotionEnded | StopAllAcked
         | HeartbeatAnswered | TelemetryReceived | Corrupt | Unmatched | GaveUp)


@dataclass
class Counters:
    """What went over the link, for tests and benchmarks."""

    frames_sent: int = 0          # including retransmissions
    retransmissions: int = 0
    frames_received: int = 0      # valid frames
    corrupt: int = 0              # losses of sync and invalid messages
    unmatched: int = 0            # valid answers to nothing waiting
    telemetry: int = 0
    telemetry_missed: int = 0     # gaps in the robot's TELEMETRY counter


class ClientSession:
    """One client's protocol state, kept across reconnects to the same robot.

    ``max_frame_size`` is the largest frame this client accepts (HELLO's
    field; the transport passes its ATT MTU - 3, at most 255).
    """

    def __init__(self, *, first_seq: int = 0, max_frame_size: int = MAX_FRAME_SIZE,
                 retransmit_after_s: float = RETRANSMIT_AFTER_S,
                 max_retransmissions: int = MAX_RETRANSMISSIONS,
                 silence_limit_s: float = SILENCE_LIMIT_S):
        if not 0 <= first_seq <= 0xFF:
            raise ValueError(f"first_seq {first_seq} is not a byte")
        self.max_frame_size = max_frame_size
        self.retransmit_after_s = retransmit_after_s
        self.max_retransmissions = max_retransmissions
        self.silence_limit_s = silence_limit_s
        self._next_seq = first_seq
        self.reader = FrameReader()
        self.counters = Counters()
        #: The robot's INFO and what the handshake agreed, once a session is open.
        self.info: Info | None = None
        self.agreement: Agreement | None = None
        self.in_session = False
        #: The one command (HELLO included) awaiting its answer on this link.
        self.in_flight: Outgoing | None = None
        #: A command whose answer a lost link swallowed, to send again (``unpark``).
        self.parked: Outgoing | None = None
        #: The token of the session a lost link ended, for RESUME (robots of 1.1 and later).
        self.lost_session_token: int | None = None
        #: Whether the robot accepted RESUME in this session.
        self.resumed = False
        self._resume: Outgoing | None = None
        # Motions sent again after a RESUME: a DONE INTERRUPTED means the lost link stopped them.
        self._resent_motions: set[int] = set()
        self._hello: Outgoing | None = None
        #: ACKed motions awaiting their DONE: seq -> command type.
        self.motions: dict[int, int] = {}
        # seq of each awaited motion -> number of answers received when its ACK came,
        # so a heartbeat sent later can tell a replaced motion from a running one.
        self._acked_at: dict[int, int] = {}
        self._answers_received = 0
        self._heartbeats: dict[int, int] = {}   # seq -> answers received when it was sent
        self._stop_alls: set[int] = set()
        self.watchdog_trips = 0
        self.telemetry: TelemetryState | None = None
        self._robot_telemetry_seq: int | None = None
        self.last_sent_at: float | None = None
        self.last_received_at: float | None = None

    # -- building frames -----------------------------------------------------

    @property
    def frame_limit(self) -> int:
        """The largest frame either side may send now: 20 until HELLO/INFO agree on more."""
        return self.agreement.max_frame_size if self.in_session else DEFAULT_FRAME_SIZE

    @property
    def heartbeat_period_s(self) -> float | None:
        """Longest gap between two frames to the robot: its watchdog / 3 (None: no session)."""
        return self.info.watchdog_ms / 3000.0 if self.in_session else None

    def next_seq(self) -> int:
        seq = self._next_seq
        self._next_seq = (seq + 1) & 0xFF
        return seq

    def build(self, message: Message, *, resend_after_reconnect: bool = False) -> Outgoing:
        """The next frame for ``message``; ProtocolError "bad_frame_length" if it is too long."""
        seq = self.next_seq()
        frame = encode(message, seq)
        if len(frame) > self.frame_limit:
            raise ProtocolError("bad_frame_length",
                                f"{message.NAME} needs {len(frame)} bytes, the session allows "
                                f"{self.frame_limit}")
        return Outgoing(seq, message, frame, resend_after_reconnect)

    # -- what to send ----------------------------------------------------------

    def hello(self) -> Outgoing:
        """Start a (new) session: HELLO, awaiting INFO. Whatever the robot did stops."""
        if self.in_flight is not None and self.in_flight in (self._hello, self._resume):
            self.in_flight = None   # a handshake on a link that dropped half-way
        self._require_free()
        self._resume = None
        self.resumed = False
        self.in_session = False
        self.agreement = None
        # A new session, and bytes of the old one may be cut short: start reading afresh.
        self.reader = FrameReader()
        self._hello = self.in_flight = self.build(
            Hello(PROTOCOL_VERSION[0], PROTOCOL_VERSION[1], self.max_frame_size))
        return self._hello

    def command(self, message: Message) -> Outgoing:
        """A command the caller waits for (not HELLO, HEARTBEAT or STOP_ALL)."""
        if isinstance(message, (Hello, Heartbeat, StopAll)):
            raise ValueError(f"{message.NAME} is not sent with command()")
        if not self.in_session:
            raise RuntimeError("no session: HELLO first")
        self._require_free()
        repeatable = not isinstance(message, (MoveStraight, Turn))
        self.in_flight = self.build(message, resend_after_reconnect=repeatable)
        return self.in_flight

    def heartbeat(self) -> Outgoing:
        out = self.build(Heartbeat())
        self._heartbeats[out.seq] = self._answers_received
        while len(self._heartbeats) > MAX_OPEN_HEARTBEATS:
            del self._heartbeats[next(iter(self._heartbeats))]
        return out

    def stop_all(self) -> Outgoing:
        """The emergency stop; allowed at any time, even without a session."""
        out = self.build(StopAll())
        self._stop_alls.add(out.seq)
        return out

    def sent(self, outgoing: Outgoing, now: float) -> None:
        """Record that ``outgoing`` (or its retransmission) was written at ``now``."""
        outgoing.sent_at = now
        self.last_sent_at = now
        self.counters.frames_sent += 1

    def resume(self) -> Outgoing | None:
        """Right after INFO on a new link: RESUME, awaiting its answer, if a command is parked
        and both the lost session and this one have a session token; else None."""
        self._require_free()
        self.resumed = False
        token = self.lost_session_token
        if (self.parked is None or token is None or not self.in_session
                or self.info.session_token is None or self.agreement.protocol_minor < 1):
            return None
        self._resume = self.in_flight = self.build(Resume(token))
        return self._resume

    def unpark(self) -> Outgoing | Unanswered | None:
        """In the new session: the parked command, to send once more with its old ``seq``.

        After an accepted RESUME every parked command goes out again; otherwise only
        one with ``resend_after_reconnect``: the others come back as
        ``Unanswered(resend=False)``, for the caller to report.
        """
        self._require_free()
        out, self.parked = self.parked, None
        self.lost_session_token = None
        if out is None:
            return None
        if not (self.resumed or out.resend_after_reconnect):
            return Unanswered(out, resend=False)
        if self.resumed and out.message.TYPE in MOTION_TYPES:
            self._resent_motions.add(out.seq)
        out.retransmissions = 0
        self.in_flight = out
        return out

    def drop_parked(self) -> Outgoing | None:
        """Give up on the parked command (the link did not come back)."""
        out, self.parked = self.parked, None
        return out

    # -- timers ----------------------------------------------------------------

    def due(self, now: float) -> list[Outgoing | GaveUp]:
        """Frames to (re)send now, and give-ups; call when ``next_deadline`` has passed."""
        items: list[Outgoing | GaveUp] = []
        out = self.in_flight
        if out is not None and out.sent_at is not None and now >= out.sent_at + self.retransmit_after_s:
            if out.retransmissions < self.max_retransmissions:
                out.retransmissions += 1
                self.counters.retransmissions += 1
                items.append(out)
            else:
                self.in_flight = None
                items.append(GaveUp(out))
        if self.in_session:
            if self.last_received_at is not None and now >= self.last_received_at + self.silence_limit_s:
                items.append(GaveUp(None))
            elif self.last_sent_at is None or now >= self.last_sent_at + self.heartbeat_period_s:
                if not any(isinstance(item, Outgoing) for item in items):
                    items.append(self.heartbeat())
        return items

    def next_deadline(self) -> float | None:
        """When ``due`` has something next (None: nothing is timed)."""
        deadlines = []
        out = self.in_flight
        if out is not None and out.sent_at is not None:
            deadlines.append(out.sent_at + self.retransmit_after_s)
        if self.in_session:
            if self.last_sent_at is not None:
                deadlines.append(self.last_sent_at + self.heartbeat_period_s)
            if self.last_received_at is not None:
                deadlines.append(self.last_received_at + self.silence_limit_s)
        return min(deadlines, default=None)

    # -- the link ---------------------------------------------------------------

    def link_lost(self) -> list[MotionEnded | Unanswered]:
        """The link went down: the robot stopped and ended the session.

        Motions awaiting DONE end with ``link_lost=True``; a command awaiting
        its answer is parked (``Unanswered(resend=True)``) if the session can be
        resumed (robot and client of 1.1 or later) or if it may run twice, else
        dropped (``Unanswered(resend=False)``).
        """
        events: list[MotionEnded | Unanswered] = self.link_lost_motions()
        if self.in_session and self.agreement.protocol_minor >= 1:
            self.lost_session_token = self.info.session_token
        else:
            self.lost_session_token = None
        out = self.in_flight
        if out is not None and out is not self._resume:
            keep = out.resend_after_reconnect or self.lost_session_token is not None
            if keep:
                self.parked = out
            events.append(Unanswered(out, keep))
        self.in_flight = None
        self._hello = None
        self._resume = None
        self.resumed = False
        self.in_session = False
        self._heartbeats.clear()
        self._stop_alls.clear()
        self.last_received_at = None
        return events

    # -- receiving ---------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> list[Event]:
        """What the bytes of one notification mean, in order."""
        events: list[Event] = []
        for item in self.reader.feed(data):
            if isinstance(item, ProtocolError):
                self.counters.corrupt += 1
                events.extend(self._protocol_error(item))
                continue
            self.counters.frames_received += 1
            self.last_received_at = now
            events.extend(self._frame(item, now))
        return events

    def _protocol_error(self, error: ProtocolError) -> list[Event]:
        hello = self._hello
        # An INFO of another major version may have another length: the reader
        # reports "version" with the robot's major version as the detail.
        if (error.reason == "version" and hello is not None and self.in_flight is hello
                and error.seq == hello.seq and error.frame_type == Info.TYPE):
            self.in_flight = None
            return [VersionMismatch(error.detail, None)]
        return [Corrupt(error)]

    def _frame(self, decoded: Decoded, now: float) -> list[Event]:
        seq, message = decoded
        if isinstance(message, Telemetry):
            return [TelemetryReceived(self._telemetry(seq, message, now))]
        if isinstance(message, Info):
            return self._info(decoded)
        if isinstance(message, (Ack, Nack)):
            self._answers_received += 1
            return self._answer(decoded)
        if isinstance(message, Done):
            if self.motions.get(seq) == message.command_type:
                del self.motions[seq]
                self._acked_at.pop(seq, None)
                return [self._ended(seq, message.command_type, message.status)]
        elif isinstance(message, HeartbeatAck) and seq in self._heartbeats:
            self._answers_received += 1
            return self._heartbeat_answer(seq, message)
        self.counters.unmatched += 1
        return [Unmatched(decoded)]

    def _info(self, decoded: Decoded) -> list[Event]:
        hello = self._hello
        if hello is None or self.in_flight is not hello or decoded.seq != hello.seq:
            self.counters.unmatched += 1
            return [Unmatched(decoded)]
        info = decoded.message
        self.in_flight = None
        try:
            check_compatible(info)
        except ProtocolError:
            return [VersionMismatch(info.protocol_major, info.protocol_minor)]
        self.info, self.agreement = info, negotiate(hello.message, info)
        self.in_session = True
        self.reader.max_frame_size = self.agreement.max_frame_size
        # HELLO stopped whatever ran in an earlier session on this link.
        ended = [motion._replace(link_lost=False) for motion in self.link_lost_motions()]
        return [*ended, HandshakeDone(info, self.agreement)]

    def _ended(self, seq: int, kind: int, status: MotionState) -> MotionEnded:
        """A motion's end; one sent again after RESUME and interrupted was stopped by the link."""
        resent = seq in self._resent_motions
        self._resent_motions.discard(seq)
        return MotionEnded(seq, kind, status, link_lost=resent and status == MotionState.INTERRUPTED)

    def link_lost_motions(self) -> list[MotionEnded]:
        """End every motion awaiting DONE as stopped by a lost link."""
        ended = [MotionEnded(seq, kind, MotionState.INTERRUPTED, link_lost=True)
                 for seq, kind in self.motions.items()]
        self.motions.clear()
        self._acked_at.clear()
        self._resent_motions.clear()
        return ended

    def _answer(self, decoded: Decoded) -> list[Event]:
        seq, answer = decoded
        out = self.in_flight
        if out is not None and seq == out.seq and answer.command_type == out.message.TYPE:
            self.in_flight = None
            if out is self._resume:
                self._resume = None
                self.resumed = isinstance(answer, Ack)
            if isinstance(answer, Nack):
                if out is self._hello and answer.code == ErrorCode.VERSION:
                    return [VersionMismatch(answer.detail, None)]
            else:
                if answer.command_type in MOTION_TYPES:
                    self.motions[seq] = answer.command_type
                    self._acked_at[seq] = self._answers_received
            return [Answered(out, answer)]
        if isinstance(answer, Ack) and answer.command_type == StopAll.TYPE and seq in self._stop_alls:
            self._stop_alls.discard(seq)
            return [StopAllAcked(seq)]
        self.counters.unmatched += 1
        return [Unmatched(decoded)]

    def _heartbeat_answer(self, seq: int, answer: HeartbeatAck) -> list[Event]:
        sent_after = self._heartbeats.pop(seq)
        self.watchdog_trips = answer.watchdog_trips
        events: list[Event] = []
        # Answers come in order, so a DONE the robot sent before this answer has
        # arrived by now; a motion still awaited had its DONE lost.
        for motion_seq, kind in list(self.motions.items()):
            if self._acked_at[motion_seq] > sent_after:
                continue  # ACKed after this heartbeat was sent: the answer may predate it
            if motion_seq == answer.motion_seq:
                if answer.motion_state in (MotionState.RUNNING, MotionState.NONE):
                    continue
                status = answer.motion_state
            else:
                status = MotionState.INTERRUPTED  # a newer motion replaced it
            del self.motions[motion_seq]
            del self._acked_at[motion_seq]
            events.append(self._ended(motion_seq, kind, status))
        events.append(HeartbeatAnswered(seq, answer))
        return events

    def _telemetry(self, robot_seq: int, frame: Telemetry, now: float) -> TelemetryState:
        counters, previous = self.counters, self.telemetry
        if self._robot_telemetry_seq is not None:
            counters.telemetry_missed += (robot_seq - self._robot_telemetry_seq - 1) & 0xFF
        self._robot_telemetry_seq = robot_seq
        counters.telemetry += 1
        if previous is None:
            time_ms, heading, odometer = frame.time_ms, frame.heading_cdeg, frame.odometer_mm
        else:
            time_ms = unwrap(previous.time_ms, frame.time_ms, 32)
            heading = unwrap(previous.heading_cdeg, frame.heading_cdeg, 24)
            odometer = unwrap(previous.odometer_mm, frame.odometer_mm, 24)
        bits = frame.sensor_bits
        self.telemetry = TelemetryState(
            number=counters.telemetry, received_at=now, time_ms=time_ms,
            distance_mm=None if frame.distance_mm == NO_ECHO else frame.distance_mm,
            reflection_left_percent=frame.reflection_left_percent,
            reflection_right_percent=frame.reflection_right_percent,
            line_left=SensorBits.LINE_LEFT in bits, line_right=SensorBits.LINE_RIGHT in bits,
            bumped=SensorBits.BUMPED in bits, colour=frame.colour,
            heading_cdeg=heading, odometer_mm=odometer)
        return self.telemetry

    def _require_free(self) -> None:
        if self.in_flight is not None:
            raise RuntimeError(f"{self.in_flight.message.NAME} (seq {self.in_flight.seq}) still "
                               "awaits its answer: one command at a time")


def is_motion(message: Message) -> bool:
    """Whether ``message`` ends with a DONE."""
    return message.TYPE in MOTION_TYPES


__all__ = [
    "ClientSession", "Outgoing", "TelemetryState", "Counters", "LinkError",
    "HandshakeDone", "VersionMismatch", "Answered", "Unanswered", "MotionEnded",
    "StopAllAcked", "HeartbeatAnswered", "TelemetryReceived", "Corrupt", "Unmatched", "GaveUp",
    "RETRANSMIT_AFTER_S", "MAX_RETRANSMISSIONS", "SILENCE_LIMIT_S", "MOTION_TYPES",
    "is_motion",
]
