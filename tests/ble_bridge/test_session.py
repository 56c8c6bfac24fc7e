"""The client's session state machine, without any I/O: seqs, answers, timers, telemetry, loss."""

import re
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ble_bridge import (Ack, Beep, Colour, Done, Drive, ErrorCode, Heartbeat, HeartbeatAck, Hello,
                        Info, MotionState, MoveStraight, Nack, Resume, SensorBits, SetLed, Stop,
                        StopAll, Subscribe, Telemetry, Turn, encode, wrap)
from ble_bridge.frames import encode_frame
from ble_bridge.session import (Answered, ClientSession, GaveUp, HandshakeDone, HeartbeatAnswered,
                                LinkError, MotionEnded, Outgoing, StopAllAcked, TelemetryReceived,
                                Unanswered, Unmatched, VersionMismatch, is_motion)

SPEC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
INFO = Info(1, 0, 1, 0, 0, profile_id=1, capabilities=0x07FF, max_frame_size=20, watchdog_ms=600,
            telemetry_min_interval_ms=50, robot_id=0x3F)


def opened(first_seq=0, info=INFO, now=0.0, **options) -> ClientSession:
    """A session whose handshake is done at ``now``."""
    session = ClientSession(first_seq=first_seq, max_frame_size=20, **options)
    hello = session.hello()
    session.sent(hello, now)
    events = session.receive(encode(info, hello.seq), now)
    assert isinstance(events[-1], HandshakeDone)
    return session


def answer(session, message, seq, now=0.0):
    return session.receive(encode(message, seq), now)


def sent(session, out, now=0.0) -> Outgoing:
    session.sent(out, now)
    return out


def telemetry(time_ms=0, heading=0, odometer=0, distance=420, bits=SensorBits(0), colour=Colour.WHITE):
    return Telemetry(time_ms=time_ms % (1 << 32), distance_mm=distance, reflection_left_percent=71,
                     reflection_right_percent=68, sensor_bits=bits, colour=colour,
                     heading_cdeg=wrap(heading, 24), odometer_mm=wrap(odometer, 24))


# -- the spec's example, played by the session -------------------------------------------

def test_the_session_plays_the_client_side_of_the_specs_example_exchange():
    rows = re.findall(r"^\| (\d+) \| (C→R|R→C) \| `([0-9A-F ]+)` \|", SPEC, re.MULTILINE)
    frames = {int(number): bytes.fromhex(text) for number, _, text in rows[:22]}
    session = ClientSession(first_seq=1, max_frame_size=20)

    def robot_says(number):
        return session.receive(frames[number], 0.0)

    assert sent(session, session.hello()).frame == frames[1]
    handshake = robot_says(2)[-1]
    assert isinstance(handshake, HandshakeDone) and handshake.info.robot_id == 0x3F
    assert session.agreement == (1, 20) and session.heartbeat_period_s == pytest.approx(0.5 / 3)
    assert sent(session, session.command(Subscribe(50, 50, 0, True))).frame == frames[3]
    assert isinstance(robot_says(4)[0], Answered)
    first = robot_says(5)[0]
    assert isinstance(first, TelemetryReceived) and first.state.distance_mm == 423
    assert sent(session, session.command(MoveStraight(200, 50))).frame == frames[6]
    assert robot_says(7)[0].answer == Ack(MoveStraight.TYPE) and session.motions == {3: 0x30}
    later = robot_says(8)[0].state
    assert (later.heading_cdeg, later.odometer_mm) == (-2, 6)
    assert sent(session, session.heartbeat()).frame == frames[9]
    assert [type(e) for e in robot_says(10)] == [HeartbeatAnswered]   # seq 3 still running
    assert robot_says(11) == [MotionEnded(3, MoveStraight.TYPE, MotionState.COMPLETED)]
    assert sent(session, session.command(Turn(9000, 30))).frame == frames[12]
    robot_says(13)
    assert sent(session, session.command(Beep(20000, 500))).frame == frames[14]
    refusal = robot_says(15)[0].answer
    assert isinstance(refusal, Nack) and refusal.code is ErrorCode.BAD_VALUE
    led = sent(session, session.command(SetLed(255, 0, 0)), now=1.0)
    assert led.frame == frames[16]
    # Frame 17, the ACK, is lost: 500 ms later the same bytes go out again (and
    # stand in for a heartbeat: any frame feeds the robot's watchdog).
    assert session.due(1.5) == [led] and led.frame == frames[18]
    assert isinstance(robot_says(19)[0], Answered)
    assert sent(session, session.stop_all()).frame == frames[20]
    assert robot_says(21) == [StopAllAcked(8)]
    assert robot_says(22) == [MotionEnded(5, Turn.TYPE, MotionState.INTERRUPTED)]


# -- sequence numbers and framing ----------------------------------------------------------

def test_every_frame_takes_the_next_seq_and_it_wraps_after_255():
    session = opened(first_seq=253)
    seqs = [session.heartbeat().seq, session.stop_all().seq, session.command(Drive(10, 10)).seq]
    assert seqs == [254, 255, 0]


def test_hello_offers_the_clients_frame_size_and_the_session_uses_the_smaller_one():
    session = ClientSession(max_frame_size=244)
    hello = session.hello()
    assert hello.message == Hello(1, 1, 244) and session.frame_limit == 20
    session.receive(encode(replace(INFO, max_frame_size=64), hello.seq), 0.0)
    assert session.in_session and session.frame_limit == 64
    assert session.reader.max_frame_size == 64


def test_only_one_command_awaits_its_answer_but_heartbeats_and_stop_all_may_pass():
    session = opened()
    session.command(SetLed(1, 2, 3))
    with pytest.raises(RuntimeError, match="one command at a time"):
        session.command(Drive(0, 0))
    session.heartbeat()
    session.stop_all()


def test_commands_need_a_session_and_hello_heartbeat_stop_all_have_their_own_calls():
    session = ClientSession()
    with pytest.raises(RuntimeError, match="HELLO first"):
        session.command(Drive(0, 0))
    assert session.stop_all().message == StopAll()
    for message in (Hello(), Heartbeat(), StopAll()):
        with pytest.raises(ValueError):
            opened().command(message)


# -- answers ---------------------------------------------------------------------------------

def test_an_answer_must_echo_both_the_seq_and_the_type():
    session = opened()
    out = session.command(SetLed(255, 0, 0))
    assert isinstance(answer(session, Ack(Drive.TYPE), out.seq)[0], Unmatched)
    assert isinstance(answer(session, Ack(SetLed.TYPE), out.seq + 1)[0], Unmatched)
    assert session.in_flight is out
    assert answer(session, Ack(SetLed.TYPE), out.seq) == [Answered(out, Ack(SetLed.TYPE))]
    assert session.in_flight is None
    # The robot answers a retransmission again: that second answer matches nothing.
    assert isinstance(answer(session, Ack(SetLed.TYPE), out.seq)[0], Unmatched)
    assert session.counters.unmatched == 3


def test_a_nack_answers_the_command_and_starts_no_motion():
    session = opened()
    out = session.command(MoveStraight(100, 50))
    refusal = Nack(MoveStraight.TYPE, ErrorCode.BUSY, 0)
    assert answer(session, refusal, out.seq) == [Answered(out, refusal)]
    assert session.motions == {}


@pytest.mark.parametrize("message", [MoveStraight(100, 50), Turn(-9000, 30), Stop()])
def test_a_motion_ends_with_its_done_and_a_repeated_done_is_ignored(message):
    session = opened()
    out = session.command(message)
    answer(session, Ack(message.TYPE), out.seq)
    assert session.motions == {out.seq: message.TYPE}
    assert answer(session, Done(message.TYPE, MotionState.BLOCKED), out.seq) == [
        MotionEnded(out.seq, message.TYPE, MotionState.BLOCKED)]
    assert isinstance(answer(session, Done(message.TYPE, MotionState.BLOCKED), out.seq)[0], Unmatched)


def test_drive_and_set_led_are_no_motions():
    assert [is_motion(m) for m in (MoveStraight(1, 1), Turn(1, 1), Stop(), Drive(1, 1), SetLed(0, 0, 0))] \
        == [True, True, True, False, False]


# -- timers ------------------------------------------------------------------------------------

def test_an_unanswered_command_is_sent_again_identically_three_times_then_given_up():
    session = opened(silence_limit_s=100.0)
    out = sent(session, session.command(SetLed(0, 0, 255)), now=10.0)
    frame, now = out.frame, 10.0
    for attempt in range(1, 4):
        now += 0.5
        assert out not in session.due(now - 0.01)   # heartbeats meanwhile
        assert session.due(now) == [out] and out.frame == frame and out.retransmissions == attempt
        session.sent(out, now)
    assert GaveUp(out) in session.due(now + 0.5)
    assert session.in_flight is None and session.counters.retransmissions == 3


def test_a_heartbeat_goes_out_a_third_of_the_watchdog_after_the_last_frame():
    session = opened(now=0.0)   # HELLO was the last frame, at 0; watchdog 600 ms
    assert session.next_deadline() == pytest.approx(0.2)
    assert session.due(0.19) == []
    beat = session.due(0.2)[0]
    assert beat.message == Heartbeat()
    session.sent(beat, 0.2)
    session.sent(session.command(Drive(20, 20)), 0.3)   # any frame feeds the watchdog
    assert session.due(0.45) == [] and session.next_deadline() == pytest.approx(0.5)


def test_a_robot_silent_for_too_long_counts_as_gone():
    session = opened(now=0.0, silence_limit_s=2.0)
    session.sent(session.heartbeat(), 1.9)
    assert GaveUp(None) in session.due(2.0)


# -- lost DONEs ---------------------------------------------------------------------------------

def started(session, message, now=0.0):
    out = sent(session, session.command(message), now)
    answer(session, Ack(message.TYPE), out.seq, now)
    return out


def test_a_lost_done_is_recovered_from_the_next_heartbeat_answer():
    session = opened()
    move = started(session, MoveStraight(100, 50))
    beat = session.heartbeat()
    events = answer(session, HeartbeatAck(move.seq, MotionState.COMPLETED, 1), beat.seq)
    assert events == [MotionEnded(move.seq, MoveStraight.TYPE, MotionState.COMPLETED),
                      HeartbeatAnswered(beat.seq, HeartbeatAck(move.seq, MotionState.COMPLETED, 1))]
    assert session.watchdog_trips == 1


def test_a_motion_replaced_by_a_newer_one_ends_interrupted_when_its_done_was_lost():
    session = opened()
    move = started(session, MoveStraight(100, 50))
    turn = started(session, Turn(9000, 50))
    beat = session.heartbeat()
    events = answer(session, HeartbeatAck(turn.seq, MotionState.RUNNING, 0), beat.seq)
    assert events[0] == MotionEnded(move.seq, MoveStraight.TYPE, MotionState.INTERRUPTED)
    assert session.motions == {turn.seq: Turn.TYPE}


def test_a_heartbeat_sent_before_a_motions_ack_says_nothing_about_it():
    session = opened()
    beat = session.heartbeat()
    move = started(session, MoveStraight(100, 50))
    answer(session, HeartbeatAck(0, MotionState.NONE, 0), beat.seq)
    assert session.motions == {move.seq: MoveStraight.TYPE}


# -- telemetry -------------------------------------------------------------------------------------

def test_telemetry_counters_unwrap_into_running_totals():
    session = opened()
    near_wrap = (1 << 23) - 50
    frames = [telemetry(time_ms=(1 << 32) - 10, heading=near_wrap, odometer=-near_wrap),
              telemetry(time_ms=(1 << 32) + 40, heading=near_wrap + 100, odometer=-near_wrap - 100)]
    states = [session.receive(encode(frame, seq), 0.0)[0].state for seq, frame in enumerate(frames)]
    assert states[0].heading_cdeg == near_wrap
    assert (states[1].time_ms, states[1].heading_cdeg, states[1].odometer_mm) == (
        (1 << 32) + 40, near_wrap + 100, -near_wrap - 100)
    assert [s.number for s in states] == [1, 2] and session.telemetry is states[1]


@given(st.lists(st.integers(-(1 << 22) + 1, (1 << 22) - 1), min_size=1, max_size=30))
def test_heading_totals_survive_any_number_of_wraps(steps):
    session, total = opened(), 0
    for seq, step in enumerate(steps):
        total += step
        state = session.receive(encode(telemetry(heading=total), seq % 256), 0.0)[0].state
    assert state.heading_cdeg == total


def test_telemetry_reads_sensor_bits_no_echo_and_counts_missed_frames():
    session = opened()
    session.receive(encode(telemetry(), 10), 0.0)
    state = session.receive(encode(telemetry(distance=0xFFFF, bits=SensorBits.LINE_RIGHT | SensorBits.BUMPED,
                                             colour=Colour.RED), 13), 0.0)[0].state
    assert state.distance_mm is None and (state.line_left, state.line_right, state.bumped) == (
        False, True, True)
    assert state.colour is Colour.RED and session.counters.telemetry_missed == 2


# -- versions ----------------------------------------------------------------------------------------

def test_a_nack_version_to_hello_names_the_robots_major_version():
    session = ClientSession()
    hello = session.hello()
    assert answer(session, Nack(Hello.TYPE, ErrorCode.VERSION, 2), hello.seq) == [VersionMismatch(2, None)]
    assert not session.in_session


def test_an_info_of_another_major_version_is_a_mismatch_whatever_its_length():
    same_length = ClientSession()
    hello = same_length.hello()
    info_v2 = replace(INFO, protocol_major=2, protocol_minor=3)
    assert answer(same_length, info_v2, hello.seq) == [VersionMismatch(2, 3)]
    other_length = ClientSession()
    hello = other_length.hello()
    longer = encode_frame(Info.TYPE, hello.seq, bytes([3, 0]) + bytes(5))
    assert other_length.receive(longer, 0.0) == [VersionMismatch(3, None)]


# -- losing the link -------------------------------------------------------------------------------------

def test_a_lost_link_ends_running_motions_and_parks_a_repeatable_command():
    session = opened()
    move = started(session, MoveStraight(300, 50))
    led = session.command(SetLed(0, 255, 0))
    events = session.link_lost()
    assert events == [MotionEnded(move.seq, MoveStraight.TYPE, MotionState.INTERRUPTED, link_lost=True),
                      Unanswered(led, resend=True)]
    assert not session.in_session and session.parked is led
    # After the new handshake the parked command goes out again, same seq, same bytes.
    hello = session.hello()
    session.receive(encode(INFO, hello.seq), 1.0)
    assert session.unpark() is led and session.in_flight is led and led.retransmissions == 0
    assert session.parked is None


def test_a_move_whose_answer_the_lost_link_swallowed_is_not_sent_again():
    session = opened()
    move = session.command(Turn(9000, 50))
    assert session.link_lost() == [Unanswered(move, resend=False)]
    assert session.parked is None


# -- resuming the session (1.1) ------------------------------------------------------------------

INFO_1_1 = replace(INFO, protocol_minor=1, session_token=0x1234)


def reconnected(session, token=0x5678, info=INFO_1_1, now=1.0):
    """The new link's handshake: HELLO, INFO with ``token``; return HandshakeDone's events."""
    hello = sent(session, session.hello(), now)
    return session.receive(encode(replace(info, session_token=token), hello.seq), now)


@pytest.mark.parametrize("message", [SetLed(0, 255, 0), MoveStraight(300, 50), Turn(9000, 30)])
def test_after_an_accepted_resume_the_parked_command_goes_out_again_with_its_old_seq(message):
    session = opened(info=INFO_1_1)
    pending = sent(session, session.command(message))
    assert session.link_lost() == [Unanswered(pending, resend=True)]    # parked, moves too
    assert session.parked is pending and session.lost_session_token == 0x1234
    reconnected(session)
    resume = sent(session, session.resume())
    assert resume.message == Resume(0x1234) and session.in_flight is resume
    assert answer(session, Ack(Resume.TYPE), resume.seq) == [Answered(resume, Ack(Resume.TYPE))]
    assert session.resumed
    assert session.unpark() is pending and session.in_flight is pending
    assert pending.frame == encode(message, pending.seq)               # the same bytes
    assert session.lost_session_token is None and session.parked is None


def test_a_resent_move_that_the_lost_link_stopped_ends_as_stopped_by_the_link():
    session = opened(info=INFO_1_1)
    move = sent(session, session.command(MoveStraight(300, 50)))
    session.link_lost()
    reconnected(session)
    resume = sent(session, session.resume())
    answer(session, Ack(Resume.TYPE), resume.seq)
    session.unpark()
    answer(session, Ack(MoveStraight.TYPE), move.seq)
    assert answer(session, Done(MoveStraight.TYPE, MotionState.INTERRUPTED), move.seq) == [
        MotionEnded(move.seq, MoveStraight.TYPE, MotionState.INTERRUPTED, link_lost=True)]


def test_a_resent_move_that_completes_ends_normally():
    session = opened(info=INFO_1_1)
    move = sent(session, session.command(MoveStraight(300, 50)))
    session.link_lost()
    reconnected(session)
    answer(session, Ack(Resume.TYPE), sent(session, session.resume()).seq)
    session.unpark()
    answer(session, Ack(MoveStraight.TYPE), move.seq)
    assert answer(session, Done(MoveStraight.TYPE, MotionState.COMPLETED), move.seq) == [
        MotionEnded(move.seq, MoveStraight.TYPE, MotionState.COMPLETED)]


def test_a_refused_resume_sends_only_a_harmless_command_again():
    for message, resent in ((SetLed(0, 255, 0), True), (Turn(9000, 30), False)):
        session = opened(info=INFO_1_1)
        pending = sent(session, session.command(message))
        session.link_lost()
        reconnected(session)
        resume = sent(session, session.resume())
        refusal = Nack(Resume.TYPE, ErrorCode.NO_RESUME, 0)
        assert answer(session, refusal, resume.seq) == [Answered(resume, refusal)]
        assert not session.resumed
        if resent:
            assert session.unpark() is pending
        else:
            assert session.unpark() == Unanswered(pending, resend=False)
            assert session.in_flight is None


def test_no_resume_with_a_1_0_robot_or_without_a_parked_command():
    session = opened()                                  # a 1.0 INFO: no token
    move = sent(session, session.command(Turn(9000, 30)))
    assert session.link_lost() == [Unanswered(move, resend=False)]
    assert session.lost_session_token is None
    reconnected(session, info=INFO, token=None)
    assert session.resume() is None and session.unpark() is None
    # A 1.1 robot, but nothing awaited its answer when the link dropped.
    session = opened(info=INFO_1_1)
    session.link_lost()
    reconnected(session)
    assert session.resume() is None
    # A 1.1 robot that a 1.0 robot replaced (firmware downgraded) between the two links.
    session = opened(info=INFO_1_1)
    sent(session, session.command(SetLed(1, 2, 3)))
    session.link_lost()
    reconnected(session, info=INFO, token=None)
    assert session.resume() is None and session.unpark() is not None


def test_a_handshake_cut_short_during_resume_can_start_again():
    session = opened(info=INFO_1_1)
    pending = sent(session, session.command(SetLed(0, 255, 0)))
    session.link_lost()
    reconnected(session)
    sent(session, session.resume())                     # and the link drops, unanswered
    reconnected(session, token=0x9ABC, now=2.0)
    resume = session.resume()
    assert resume.message == Resume(0x1234)             # still the lost session's token
    answer(session, Ack(Resume.TYPE), resume.seq)
    assert session.unpark() is pending


def test_link_error_is_a_connection_error_with_a_reason_and_details():
    error = LinkError("several_robots", "RobotLab-07, RobotLab-08", names=["RobotLab-07", "RobotLab-08"])
    assert isinstance(error, ConnectionError)
    assert error.reason == "several_robots" and error.details["names"][1] == "RobotLab-08"
    assert str(error) == "several_robots: RobotLab-07, RobotLab-08"
