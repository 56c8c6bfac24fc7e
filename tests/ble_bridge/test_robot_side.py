"""The robot's side of the protocol (ble_bridge.robot_side), with a fake body and a fake clock."""

import re
from pathlib import Path

import pytest

from ble_bridge import (Ack, Beep, Capability, Colour, Done, Drive, ErrorCode, Heartbeat,
                        HeartbeatAck, Hello, Identify, Info, MotionState, MoveStraight, Nack,
                        ProtocolError, Resume, SensorBits, SetLed, Stop, StopAll, Subscribe,
                        Telemetry, Turn, decode, encode, encode_frame)
from ble_bridge.robot_side import ALL_CAPABILITIES, DEDUP_WINDOW, RESUME_WITHIN_S, RobotProtocol

SPEC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
TICK_MS = 10


class FakeClock:
    """The robot's clock, in seconds, moved by the test."""

    def __init__(self, start_s: float = 100.0):
        self.s = start_s

    def __call__(self) -> float:
        return self.s


class FakeBody:
    """Records every command; the test decides when a move finishes or is blocked."""

    buzzer_range_hz = (50, 10000)

    def __init__(self):
        self.calls = []
        self.finished = True
        self.is_blocked = False
        self.is_moving = False
        self.reading = Telemetry(time_ms=0, distance_mm=500, reflection_left_percent=80,
                                 reflection_right_percent=80, sensor_bits=SensorBits(0),
                                 colour=Colour.WHITE, heading_cdeg=0, odometer_mm=0)

    def _move(self, name, *args, finished=False):
        self.calls.append((name, *args))
        self.finished, self.is_blocked, self.is_moving = finished, False, not finished

    def straight(self, distance_mm, speed_percent):
        self._move("straight", distance_mm, speed_percent, finished=distance_mm == 0)

    def turn(self, angle_cdeg, speed_percent):
        self._move("turn", angle_cdeg, speed_percent, finished=angle_cdeg == 0)

    def drive(self, left_percent, right_percent):
        self._move("drive", left_percent, right_percent)

    def brake(self):
        self._move("brake")

    def halt(self):
        self.calls.append(("halt",))
        self.is_moving = False

    def stop_tone(self):
        self.calls.append(("stop_tone",))

    def set_led(self, red, green, blue):
        self.calls.append(("set_led", red, green, blue))

    def beep(self, frequency_hz, duration_ms):
        self.calls.append(("beep", frequency_hz, duration_ms))

    def identify(self, duration_ms):
        self.calls.append(("identify", duration_ms))

    def move_finished(self):
        return self.finished

    def blocked(self):
        return self.is_blocked

    def moving(self):
        return self.is_moving

    def telemetry(self):
        return self.reading

    def count(self, name):
        return sum(1 for call in self.calls if call[0] == name)


class Robot:
    """A RobotProtocol on a fake body and clock, with helpers that return what it sent."""

    def __init__(self, **options):
        options.setdefault("short_id", 0x07)
        self.body, self.clock, self.sent = FakeBody(), FakeClock(), []
        self.protocol = RobotProtocol(self.body, send=self.sent.append, now=self.clock, **options)
        self.seq = 0

    def take(self):
        """Every frame sent since the last take, decoded (each notification is one frame)."""
        frames, self.sent[:] = list(self.sent), []
        return [decode(frame) for frame in frames]

    def write(self, *frames: bytes):
        self.protocol.receive(b"".join(frames))
        return self.take()

    def command(self, message, seq=None):
        """Write one command with the next seq (or the given one); return the answers."""
        if seq is None:
            self.seq = (self.seq + 1) % 256
            seq = self.seq
        return self.write(encode(message, seq))

    def hello(self, **fields):
        answers = self.command(Hello(**fields))
        assert isinstance(answers[-1].message, Info)
        return answers

    def wait(self, ms):
        """Let ``ms`` pass on the robot's clock, ticking every 10 ms; return what was sent."""
        for _ in range(round(ms / TICK_MS)):
            self.clock.s += TICK_MS / 1000
            self.protocol.tick()
        return self.take()


@pytest.fixture
def robot():
    return Robot()


@pytest.fixture
def ready(robot):
    robot.hello()
    return robot


def messages(answers):
    return [answer.message for answer in answers]


def telemetry_of(answers):
    return [answer for answer in answers if isinstance(answer.message, Telemetry)]


# -- the spec's example exchange, byte for byte ----------------------------------------

def example_rows():
    rows = re.findall(r"^\| (\d+) \| (C→R|R→C) \| `([0-9A-F ]+)` \|", SPEC, flags=re.MULTILINE)
    """The spec's example tables: the session, the resumed session, the other major version."""
    frames = [bytes.fromhex(hex_bytes) for _, _, hex_bytes in rows]
    starts = [i for i, (number, _, _) in enumerate(rows) if number == "1"] + [len(rows)]
    return [dict(enumerate(frames[start:end], 1)) for start, end in zip(starts, starts[1:])]


def test_the_robot_answers_the_spec_example_exchange_byte_for_byte():
    rows, _, _ = example_rows()
    robot = Robot(short_id=0x3F, session_tokens=iter([0x1234, 0x5678]).__next__)
    robot.body.reading = decode(rows[5]).message
    assert robot.write(rows[1]) == [decode(rows[2])]                # HELLO -> INFO
    robot.clock.s = 12.345
    assert robot.write(rows[3]) == [decode(rows[4]), decode(rows[5])]  # SUBSCRIBE -> ACK, TELEMETRY #0
    assert robot.write(rows[6]) == [decode(rows[7])]                # MOVE_STRAIGHT -> ACK
    assert robot.body.calls[-1] == ("straight", 200, 50)
    robot.body.reading = decode(rows[8]).message
    assert robot.wait(50) == [decode(rows[8])]                      # TELEMETRY #1, 50 ms later
    assert robot.write(rows[9]) == [decode(rows[10])]               # HEARTBEAT -> running
    robot.body.finished = True
    assert robot.wait(10) == [decode(rows[11])]                     # DONE completed
    assert robot.write(rows[12]) == [decode(rows[13])]              # TURN -> ACK
    assert robot.write(rows[14]) == [decode(rows[15])]              # BEEP 20 kHz -> BAD_VALUE
    assert robot.write(rows[16]) == [decode(rows[17])]              # SET_LED -> ACK (lost)
    assert robot.write(rows[18]) == [decode(rows[19])]              # the same bytes again
    assert robot.body.count("set_led") == 1 and robot.body.count("beep") == 0
    assert robot.write(rows[20]) == [decode(rows[21]), decode(rows[22])]  # STOP_ALL -> ACK, DONE
    assert list(robot.protocol.executed) == [(1, 0x20), (2, 0x50), (3, 0x30), (4, 0x21), (5, 0x31),
                                       (7, 0x40), (8, 0x22)]
    assert robot.sent == []
    # The link drops right after SET_LED green; the client reconnects and resumes.
    _, resumed, _ = example_rows()
    robot.clock.s += 1.0
    robot.protocol.receive(resumed[1])
    assert robot.take() == [decode(resumed[2])]                     # ACK of SET_LED, lost
    robot.protocol.link_lost()
    robot.clock.s += 2.0
    assert robot.write(resumed[3]) == [decode(resumed[4])]          # HELLO -> INFO, token 0x5678
    assert robot.write(resumed[5]) == [decode(resumed[6])]          # RESUME 0x1234 -> ACK
    assert robot.write(resumed[7]) == [decode(resumed[8])]          # SET_LED again -> from the window
    assert robot.body.count("set_led") == 2                         # red, then green once


def test_a_client_of_another_major_version_gets_nack_version_as_in_the_spec():
    _, _, rows = example_rows()
    robot = Robot()
    assert robot.write(rows[1]) == [decode(rows[2])]
    assert not robot.protocol.in_session
    assert messages(robot.command(MoveStraight(100, 50))) == [
        Nack(MoveStraight.TYPE, ErrorCode.NOT_READY, 0)]


# -- handshake and session ------------------------------------------------------------

def test_hello_is_answered_by_info_with_the_robots_values_and_the_echoed_seq():
    robot = Robot(short_id=0x2A, profile_id=128, capabilities=Capability.MOTORS | Capability.LED,
                  watchdog_ms=800, max_frame=64, firmware=(2, 3, 4), min_telemetry_ms=20)
    [answer] = robot.command(Hello(), seq=200)
    assert answer.seq == 200
    token = answer.message.session_token
    assert answer.message == Info(1, 1, 2, 3, 4, 128, Capability.MOTORS | Capability.LED, 64, 800,
                                  20, 0x2A, session_token=token)
    assert 1 <= token <= 0xFFFF and robot.protocol.session_token == token
    assert robot.protocol.in_session and list(robot.protocol.executed) == [(200, Hello.TYPE)]
    # A 1.0 client gets the 1.0 INFO, without a token (it would not know its length).
    [answer] = robot.command(Hello(1, 0), seq=201)
    assert answer.message.session_token is None and len(encode(answer.message, 201)) == 18


def test_impossible_robot_settings_fail_when_the_protocol_is_made():
    with pytest.raises(ProtocolError, match="watchdog_ms"):
        Robot(watchdog_ms=50)
    with pytest.raises(ProtocolError, match="robot_id"):
        Robot(short_id=256)


@pytest.mark.parametrize("message", [
    Heartbeat(), Identify(1000), MoveStraight(100, 50), Turn(9000, 30), Drive(10, 10), Stop(),
    SetLed(1, 2, 3), Beep(440, 100), Subscribe(100, 0, 0, False)], ids=lambda m: m.NAME)
def test_before_hello_every_command_but_hello_and_stop_all_is_not_ready(robot, message):
    [answer] = robot.command(message, seq=9)
    assert answer == (9, Nack(message.TYPE, ErrorCode.NOT_READY, 0))
    assert robot.body.calls == [] and not robot.protocol.executed


def test_stop_all_works_before_hello_and_after_a_refused_hello(robot):
    assert robot.command(StopAll(), seq=4) == [(4, Ack(StopAll.TYPE))]
    assert robot.body.calls == [("halt",), ("stop_tone",)]
    robot.command(Hello(protocol_major=2))
    assert messages(robot.command(StopAll())) == [Ack(StopAll.TYPE)]
    assert robot.body.count("halt") == 2


def test_a_range_error_is_reported_before_not_ready(robot):
    frame = encode_frame(MoveStraight.TYPE, 6, bytes([100, 0, 0, 0, 0]))     # speed 0 %
    assert messages(robot.write(frame)) == [Nack(MoveStraight.TYPE, ErrorCode.BAD_VALUE, 4)]


def test_a_hello_of_another_major_version_during_a_session_changes_nothing(ready):
    ready.command(MoveStraight(500, 50))
    assert messages(ready.command(Hello(protocol_major=3))) == [
        Nack(Hello.TYPE, ErrorCode.VERSION, 1)]
    assert ready.protocol.in_session and ready.body.count("halt") == 1     # HELLO's only
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(2, MotionState.RUNNING, 0)]


def test_a_new_hello_stops_ends_the_old_motion_and_starts_afresh(ready):
    ready.command(Subscribe(100, 0, 0, False))
    ready.command(MoveStraight(500, 50), seq=30)
    answers = ready.command(Hello(), seq=31)
    assert messages(answers)[0] == Done(MoveStraight.TYPE, MotionState.INTERRUPTED)
    assert isinstance(answers[1].message, Info) and len(answers) == 2
    assert ready.body.calls[-2:] == [("halt",), ("stop_tone",)]
    assert ready.wait(300) == []                                     # subscription cancelled
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(0, MotionState.NONE, 0)]
    # The window was emptied: the same MOVE_STRAIGHT frame runs again.
    ready.command(MoveStraight(500, 50), seq=30)
    assert ready.body.count("straight") == 2


def test_hello_agrees_on_the_smaller_frame_size(robot):
    long_frame = encode_frame(0x7F, 3, bytes(30))       # 34 bytes of an unknown type
    robot.hello(max_frame_size=40)
    assert robot.write(long_frame) == []                # above the robot's 20 bytes: garbage
    big = Robot(max_frame=64)
    big.hello(max_frame_size=40)
    assert messages(big.write(long_frame)) == [Nack(0x7F, ErrorCode.UNKNOWN_TYPE, 0)]


# -- commands: ACK, NACK, DONE -----------------------------------------------------------

@pytest.mark.parametrize("message, call", [
    (Identify(3000), ("identify", 3000)),
    (Identify(0), ("identify", 0)),
    (Drive(-100, 100), ("drive", -100, 100)),
    (SetLed(255, 128, 0), ("set_led", 255, 128, 0)),
    (Beep(440, 250), ("beep", 440, 250)),
    (Beep(10000, 1), ("beep", 10000, 1)),
], ids=lambda value: getattr(value, "NAME", ""))
def test_commands_without_done_are_acked_and_carried_out(ready, message, call):
    [answer] = ready.command(message, seq=77)
    assert answer == (77, Ack(message.TYPE))
    assert ready.body.calls[-1] == call
    assert ready.wait(100) == []                                    # no DONE follows


@pytest.mark.parametrize("message, call", [
    (MoveStraight(-250, 100), ("straight", -250, 100)),
    (Turn(-9000, 1), ("turn", -9000, 1)),
    (Stop(), ("brake",)),
], ids=lambda value: getattr(value, "NAME", ""))
def test_motions_are_acked_then_done_when_the_body_has_finished(ready, message, call):
    assert ready.command(message, seq=40) == [(40, Ack(message.TYPE))]
    assert ready.body.calls[-1] == call
    assert ready.wait(200) == []
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(40, MotionState.RUNNING, 0)]
    ready.body.finished = True
    assert ready.wait(10) == [(40, Done(message.TYPE, MotionState.COMPLETED))]
    assert ready.wait(100) == []
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(40, MotionState.COMPLETED, 0)]


def test_a_move_of_zero_completes_at_once(ready):
    assert ready.command(MoveStraight(0, 50), seq=12) == [
        (12, Ack(MoveStraight.TYPE)), (12, Done(MoveStraight.TYPE, MotionState.COMPLETED))]


def test_a_new_motion_replaces_the_running_one_which_ends_interrupted(ready):
    ready.command(MoveStraight(1000, 50), seq=10)
    assert ready.command(Turn(9000, 50), seq=11) == [
        (11, Ack(Turn.TYPE)), (10, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    assert ready.command(Drive(20, 20), seq=12) == [
        (12, Ack(Drive.TYPE)), (11, Done(Turn.TYPE, MotionState.INTERRUPTED))]
    assert ready.wait(100) == []                                  # DRIVE has no DONE
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(11, MotionState.INTERRUPTED, 0)]


def test_stop_interrupts_the_running_motion_then_completes_when_standing(ready):
    ready.command(MoveStraight(1000, 50), seq=20)
    assert ready.command(Stop(), seq=21) == [
        (21, Ack(Stop.TYPE)), (20, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    ready.body.finished = True
    assert ready.wait(10) == [(21, Done(Stop.TYPE, MotionState.COMPLETED))]


def test_a_blocked_move_is_halted_and_ends_blocked(ready):
    ready.command(MoveStraight(1000, 50), seq=50)
    ready.body.is_blocked = True
    assert ready.wait(10) == [(50, Done(MoveStraight.TYPE, MotionState.BLOCKED))]
    assert ready.body.calls[-1] == ("halt",)
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(50, MotionState.BLOCKED, 0)]


def test_stop_all_halts_at_once_and_ends_the_motion_but_keeps_led_and_subscription(ready):
    ready.command(Subscribe(200, 0, 0, False))
    ready.command(SetLed(0, 0, 255))
    ready.command(MoveStraight(1000, 50), seq=60)
    assert ready.command(StopAll(), seq=61) == [
        (61, Ack(StopAll.TYPE)), (60, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    assert ready.body.calls[-2:] == [("halt",), ("stop_tone",)]
    assert "set_led" not in [call[0] for call in ready.body.calls[-2:]]
    assert len(telemetry_of(ready.wait(200))) == 1


def test_stop_all_with_a_payload_still_stops_then_says_bad_length(ready):
    ready.command(MoveStraight(1000, 50), seq=70)
    answers = ready.write(encode_frame(StopAll.TYPE, 71, b"\x00"))
    assert answers == [(71, Nack(StopAll.TYPE, ErrorCode.BAD_LENGTH, 0)),
                       (70, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    assert ready.body.count("halt") == 2                # HELLO's and this one


def test_speeds_out_of_range_are_refused_with_the_offset_and_nothing_moves(ready):
    move = encode_frame(MoveStraight.TYPE, 80, (100).to_bytes(4, "little") + bytes([101]))
    turn = encode_frame(Turn.TYPE, 81, (100).to_bytes(4, "little") + bytes([0]))
    drive = encode_frame(Drive.TYPE, 82, bytes([50, 0x9B]))                  # right = -101
    assert ready.write(move, turn, drive) == [
        (80, Nack(MoveStraight.TYPE, ErrorCode.BAD_VALUE, 4)),
        (81, Nack(Turn.TYPE, ErrorCode.BAD_VALUE, 4)),
        (82, Nack(Drive.TYPE, ErrorCode.BAD_VALUE, 1))]
    assert ready.body.calls == [("halt",), ("stop_tone",)]      # only HELLO's stop
    assert list(ready.protocol.executed) == [(1, Hello.TYPE)]


def test_a_tone_outside_the_buzzer_range_is_refused(ready):
    assert messages(ready.command(Beep(49, 100))) == [Nack(Beep.TYPE, ErrorCode.BAD_VALUE, 0)]
    zero_ms = encode_frame(Beep.TYPE, 9, (440).to_bytes(2, "little") + bytes(2))
    assert messages(ready.write(zero_ms)) == [Nack(Beep.TYPE, ErrorCode.BAD_VALUE, 2)]
    assert ready.body.count("beep") == 0


def test_unknown_types_robot_types_and_wrong_lengths_are_refused(ready):
    assert ready.write(encode_frame(0x60, 1, b"")) == [(1, Nack(0x60, ErrorCode.UNKNOWN_TYPE, 0))]
    assert ready.write(encode(Ack(0x30), 2)) == [(2, Nack(Ack.TYPE, ErrorCode.UNKNOWN_TYPE, 0))]
    assert ready.write(encode_frame(Done.TYPE, 3, b"\x00")) == [
        (3, Nack(Done.TYPE, ErrorCode.UNKNOWN_TYPE, 0))]
    assert ready.write(encode_frame(SetLed.TYPE, 4, b"\x01\x02")) == [
        (4, Nack(SetLed.TYPE, ErrorCode.BAD_LENGTH, 0))]


@pytest.mark.parametrize("missing, message, bit", [
    (Capability.MOTORS, MoveStraight(10, 10), 0),
    (Capability.MOTORS, Drive(10, 10), 0),
    (Capability.LED, SetLed(1, 1, 1), 8),
    (Capability.LED, Identify(500), 8),
    (Capability.BUZZER, Beep(440, 100), 9),
], ids=lambda value: getattr(value, "NAME", ""))
def test_commands_for_missing_hardware_are_unsupported(missing, message, bit):
    robot = Robot(capabilities=ALL_CAPABILITIES & ~missing)
    robot.hello()
    assert messages(robot.command(message)) == [Nack(message.TYPE, ErrorCode.UNSUPPORTED, bit)]


def test_answers_follow_the_order_of_the_commands_in_one_write(ready):
    answers = ready.write(encode(SetLed(1, 2, 3), 5), encode(Heartbeat(), 6), encode(Beep(440, 9), 7))
    assert [(seq, type(message)) for seq, message in answers] == [(5, Ack), (6, HeartbeatAck), (7, Ack)]


# -- de-duplication -------------------------------------------------------------------------

def test_a_retransmitted_command_is_answered_again_but_runs_once(ready):
    frame = encode(MoveStraight(300, 40), 90)
    assert ready.write(frame) == [(90, Ack(MoveStraight.TYPE))]
    assert ready.write(frame) == [(90, Ack(MoveStraight.TYPE))]
    ready.body.finished = True
    assert ready.wait(10) == [(90, Done(MoveStraight.TYPE, MotionState.COMPLETED))]
    assert ready.write(frame) == [(90, Ack(MoveStraight.TYPE)),
                                  (90, Done(MoveStraight.TYPE, MotionState.COMPLETED))]
    assert ready.body.count("straight") == 1
    assert ready.protocol.executed.count((90, MoveStraight.TYPE)) == 1


def test_the_remembered_done_of_an_interrupted_motion_is_resent(ready):
    frame = encode(Turn(9000, 40), 91)
    ready.write(frame)
    ready.command(StopAll())
    assert messages(ready.write(frame)) == [Ack(Turn.TYPE), Done(Turn.TYPE, MotionState.INTERRUPTED)]
    assert ready.body.count("turn") == 1


def test_a_refused_command_is_answered_with_its_nack_again(ready):
    frame = encode(Beep(20000, 100), 92)
    assert ready.write(frame) == ready.write(frame) == [(92, Nack(Beep.TYPE, ErrorCode.BAD_VALUE, 0))]


def test_the_same_seq_with_other_bytes_is_a_new_command(ready):
    ready.write(encode(SetLed(255, 0, 0), 93))
    ready.write(encode(SetLed(0, 255, 0), 93))
    ready.write(encode(Drive(0, 0), 93))
    assert ready.body.count("set_led") == 2 and ready.body.count("drive") == 1


def test_the_window_holds_the_last_eight_commands(ready):
    frame = encode(SetLed(9, 9, 9), 100)
    ready.write(frame)
    for seq in range(101, 101 + DEDUP_WINDOW - 1):
        ready.command(Heartbeat(), seq=seq)
    ready.write(frame)
    assert ready.body.count("set_led") == 1              # still remembered
    ready.command(Heartbeat(), seq=120)
    ready.write(frame)
    assert ready.body.count("set_led") == 2              # pushed out by the ninth


def test_stop_all_is_never_deduplicated(ready):
    frame = encode(StopAll(), 110)
    assert ready.write(frame) == ready.write(frame) == [(110, Ack(StopAll.TYPE))]
    assert ready.protocol.executed.count((110, StopAll.TYPE)) == 2


# -- watchdog -------------------------------------------------------------------------------

def test_the_watchdog_trips_after_500_ms_without_frames_and_not_before(ready):
    ready.command(Drive(50, 50))
    assert ready.wait(490) == [] and ready.body.count("halt") == 1     # HELLO's only
    ready.wait(10)
    assert ready.body.calls[-2:] == [("halt",), ("stop_tone",)]
    assert ready.protocol.watchdog_trips == 1
    assert ready.protocol.in_session                                   # the session goes on
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(0, MotionState.NONE, 1)]


def test_heartbeats_keep_the_watchdog_from_tripping(ready):
    ready.command(Drive(50, 50))
    for _ in range(20):
        assert ready.wait(160) == []
        ready.command(Heartbeat())
    assert ready.body.count("halt") == 1 and ready.protocol.watchdog_trips == 0


def test_any_well_framed_frame_feeds_the_watchdog_but_a_corrupted_one_does_not(ready):
    ready.command(Drive(50, 50))
    ready.wait(400)
    ready.write(encode_frame(0x7E, 3, b""))                 # unknown type, NACKed
    ready.wait(400)
    assert ready.protocol.watchdog_trips == 0
    corrupted = bytearray(encode(Heartbeat(), 4))
    corrupted[-1] ^= 0xFF
    assert ready.write(bytes(corrupted)) == []
    ready.wait(100)
    assert ready.protocol.watchdog_trips == 1


def test_a_watchdog_trip_interrupts_the_motion_and_counts_only_when_something_ran(ready):
    ready.command(MoveStraight(1000, 50), seq=33)
    assert ready.wait(500) == [(33, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    assert ready.protocol.watchdog_trips == 1
    ready.wait(2000)                                        # one trip per silence
    ready.command(Heartbeat())
    ready.wait(500)                                         # standing still: no trip counted
    assert ready.protocol.watchdog_trips == 1
    ready.command(Beep(440, 2000))
    ready.wait(500)                                         # a tone counts
    assert ready.protocol.watchdog_trips == 2 and ready.body.calls[-1] == ("stop_tone",)


def test_a_frame_arriving_after_the_deadline_finds_the_robot_already_stopped(ready):
    ready.command(Drive(50, 50))
    ready.clock.s += 0.6                                    # no tick in between
    ready.command(Heartbeat())
    assert ready.protocol.watchdog_trips == 1


def test_there_is_no_watchdog_outside_a_session(robot):
    robot.wait(2000)
    assert robot.body.calls == [] and robot.protocol.watchdog_trips == 0


# -- telemetry ------------------------------------------------------------------------------

def test_telemetry_comes_right_after_the_ack_then_at_the_subscribed_period(ready):
    answers = ready.command(Subscribe(100, 0, 0, False))
    assert [type(m) for m in messages(answers)] == [Ack, Telemetry]
    frames = []
    for _ in range(10):
        frames += telemetry_of(ready.wait(100))
        ready.command(Heartbeat())
    assert len(frames) == 10
    assert [frame.seq for frame in frames] == list(range(1, 11))     # the robot's own counter


def test_telemetry_keeps_its_cadence_when_ticks_jitter(ready):
    ready.command(Subscribe(100, 0, 0, False))
    sent = 0
    for tick, step_ms in enumerate([13, 7, 11, 9] * 50):    # 2 s of irregular ticks
        ready.clock.s += step_ms / 1000
        ready.protocol.tick()
        sent += len(telemetry_of(ready.take()))
        if tick % 10 == 0:
            ready.command(Heartbeat())
    assert sent == 20


def test_telemetry_is_never_faster_than_the_robots_own_limit(ready):
    ready.command(Subscribe(10, 0, 0, False))               # asks for 10 ms; robot: 50 ms
    assert len(telemetry_of(ready.wait(400))) == 8
    ready.command(Subscribe(10, 120, 0, False))              # the client's own limit, 120 ms
    assert len(telemetry_of(ready.wait(360))) == 3


def test_a_distance_change_sends_early_delayed_by_the_rate_limit_never_dropped(ready):
    ready.command(Subscribe(1000, 0, 100, False))
    ready.wait(20)
    ready.body.reading = Telemetry(**{**vars(ready.body.reading), "distance_mm": 390})
    assert ready.wait(20) == []                             # due, held back until 50 ms
    [frame] = ready.wait(10)
    assert frame.message.distance_mm == 390
    assert ready.wait(100) == []                            # 10 mm is no change worth a frame


def test_on_change_sends_when_a_line_bit_the_bumper_or_the_colour_changes(ready):
    ready.command(Subscribe(0, 0, 0, True))
    assert ready.wait(200) == []
    for change in [{"sensor_bits": SensorBits.LINE_LEFT}, {"sensor_bits": SensorBits.BUMPED},
                   {"colour": Colour.RED}]:
        ready.body.reading = Telemetry(**{**vars(ready.body.reading), **change})
        assert [frame.message for frame in ready.wait(100)] == [ready.body.reading]
        ready.command(Heartbeat())


def test_a_subscription_of_zeros_ends_telemetry(ready):
    ready.command(Subscribe(100, 0, 0, False))
    assert [type(m) for m in messages(ready.command(Subscribe(0, 0, 0, False)))] == [Ack]
    assert ready.wait(300) == []


def test_telemetry_carries_the_values_at_the_moment_it_is_sent(ready):
    ready.command(Subscribe(100, 0, 0, False))
    ready.wait(50)
    ready.body.reading = Telemetry(**{**vars(ready.body.reading), "odometer_mm": -5})
    [frame] = ready.wait(50)
    assert frame.message.odometer_mm == -5


# -- corrupted input, link loss ---------------------------------------------------------------

def test_corrupted_frames_are_dropped_silently_and_the_next_one_is_decoded(ready):
    good = encode(SetLed(1, 2, 3), 50)
    bad = bytearray(encode(MoveStraight(200, 50), 49))
    bad[4] ^= 0x10
    assert ready.write(bytes(bad), good) == [(50, Ack(SetLed.TYPE))]
    assert ready.write(b"\x09\x30\x03") == []                       # cut short at the write's end
    assert ready.write(b"\xff\x00" + encode(Heartbeat(), 51)) == [
        (51, HeartbeatAck(0, MotionState.NONE, 0))]
    assert ready.body.count("straight") == 0


def test_link_loss_halts_and_ends_the_session(ready):
    ready.command(Subscribe(100, 0, 0, False))
    ready.command(MoveStraight(1000, 50))
    ready.command(Beep(440, 1000))
    ready.protocol.link_lost()
    assert ready.body.calls[-2:] == [("halt",), ("stop_tone",)]
    assert not ready.protocol.in_session
    assert ready.take() == [] and ready.wait(1000) == []            # no DONE, no telemetry, no trip
    assert messages(ready.command(Heartbeat())) == [Nack(Heartbeat.TYPE, ErrorCode.NOT_READY, 0)]
    ready.hello()
    assert messages(ready.command(Heartbeat())) == [HeartbeatAck(0, MotionState.NONE, 0)]


# -- resuming a session (1.1) ---------------------------------------------------------------

def lost_and_back(robot, after_s=1.0):
    """Lose the link, let ``after_s`` pass, HELLO again; return the old and the new token."""
    old = robot.protocol.session_token
    robot.protocol.link_lost()
    robot.take()
    robot.clock.s += after_s
    [info] = robot.hello()
    assert info.message.session_token not in (None, old)
    return old, info.message.session_token


def test_a_resumed_session_answers_a_command_it_carried_out_from_the_window(ready):
    led = encode(SetLed(0, 255, 0), 9)
    assert ready.write(led) == [(9, Ack(SetLed.TYPE))]          # lost with the link
    old, new = lost_and_back(ready)
    assert ready.command(Resume(old), seq=11) == [(11, Ack(Resume.TYPE))]
    assert ready.write(led) == [(9, Ack(SetLed.TYPE))]          # from the window
    assert ready.body.count("set_led") == 1
    assert ready.protocol.session_token == new                  # the new session's token goes on
    assert (11, Resume.TYPE) in ready.protocol.executed
    assert ready.command(Resume(old), seq=11) == [(11, Ack(Resume.TYPE))]   # de-duplicated too


def test_a_command_that_never_arrived_runs_once_after_the_resume(ready):
    ready.command(SetLed(1, 1, 1), seq=8)
    old, _ = lost_and_back(ready)
    assert ready.command(Resume(old), seq=11) == [(11, Ack(Resume.TYPE))]
    led = encode(SetLed(0, 255, 0), 9)
    assert ready.write(led) == [(9, Ack(SetLed.TYPE))] == ready.write(led)
    assert ready.body.count("set_led") == 2                     # (1, 1, 1) and green, once


def test_a_move_the_lost_link_stopped_answers_done_interrupted_and_never_runs_again(ready):
    move = encode(MoveStraight(1000, 50), 9)
    assert messages(ready.write(move)) == [Ack(MoveStraight.TYPE)]
    old, _ = lost_and_back(ready)
    assert ready.body.count("halt") == 3                        # HELLO's, the link's, HELLO's
    ready.command(Resume(old), seq=11)
    assert ready.write(move) == [(9, Ack(MoveStraight.TYPE)),
                                 (9, Done(MoveStraight.TYPE, MotionState.INTERRUPTED))]
    assert ready.body.count("straight") == 1 and not ready.body.is_moving


def test_a_completed_move_answers_done_completed_after_the_resume(ready):
    move = encode(MoveStraight(0, 50), 9)
    assert messages(ready.write(move)) == [Ack(MoveStraight.TYPE),
                                          Done(MoveStraight.TYPE, MotionState.COMPLETED)]
    old, _ = lost_and_back(ready)
    ready.command(Resume(old), seq=11)
    assert messages(ready.write(move)) == [Ack(MoveStraight.TYPE),
                                           Done(MoveStraight.TYPE, MotionState.COMPLETED)]
    assert ready.body.count("straight") == 1


@pytest.mark.parametrize("case", ["wrong token", "expired", "after another command",
                                  "no lost session", "new hello during the session"])
def test_resume_is_refused_and_the_new_session_goes_on_with_an_empty_window(ready, case):
    led = encode(SetLed(0, 255, 0), 9)
    ready.write(led)
    if case == "no lost session":
        old = ready.protocol.session_token
        ready.hello()
    elif case == "new hello during the session":
        old = ready.protocol.session_token
        ready.hello()               # a deliberate new session keeps nothing for RESUME
    else:
        old, _ = lost_and_back(ready, after_s=RESUME_WITHIN_S + 0.1 if case == "expired" else 1.0)
    if case == "wrong token":
        old = old % 0xFFFF + 1
    if case == "after another command":
        ready.command(Subscribe(0, 0, 0, False), seq=10)
    assert ready.command(Resume(old), seq=11) == [(11, Nack(Resume.TYPE, ErrorCode.NO_RESUME, 0))]
    assert ready.write(led) == [(9, Ack(SetLed.TYPE))]
    assert ready.body.count("set_led") == 2                     # a new command of the new session
    assert (11, Resume.TYPE) not in ready.protocol.executed


def test_heartbeats_between_info_and_resume_are_allowed_and_a_reconnect_may_fail_half_way(ready):
    led = encode(SetLed(0, 255, 0), 9)
    ready.write(led)
    old, _ = lost_and_back(ready)
    ready.protocol.link_lost()          # the reconnect's link drops too, before RESUME
    ready.clock.s += 1.0
    ready.hello()
    ready.command(Heartbeat(), seq=10)
    assert ready.command(Resume(old), seq=11) == [(11, Ack(Resume.TYPE))]
    assert ready.write(led) == [(9, Ack(SetLed.TYPE))]
    assert ready.body.count("set_led") == 1


def test_resume_needs_a_session_and_a_1_0_client_gets_no_token(robot):
    assert messages(robot.command(Resume(1))) == [Nack(Resume.TYPE, ErrorCode.NOT_READY, 0)]
    [info] = robot.hello(protocol_minor=0)
    assert info.message.session_token is None and robot.protocol.session_token is None
    robot.command(SetLed(1, 1, 1))
    robot.protocol.link_lost()
    robot.hello()
    # Nothing was kept of the 1.0 session: no token could name it.
    assert messages(robot.command(Resume(1))) == [Nack(Resume.TYPE, ErrorCode.NO_RESUME, 0)]
