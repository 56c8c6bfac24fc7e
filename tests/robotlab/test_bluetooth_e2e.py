"""Robot("ble") end to end: bleak -> Bumble's LocalLink -> a virtual robot running the protocol.

Nothing of ours is mocked: the pupil API and ``ble_bridge.transport`` talk
through bleak's public API to the virtual radio's bleak backends, Bumble
carries the packets, and ``robotlab.emulate`` runs the robot side of the
protocol on a simulated robot paced to real time. So these tests take real
time; keep the file well under a minute.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

from ble_bridge import (Capability, Decoded, Drive, ErrorCode, FrameReader, Heartbeat, Hello,
                        MotionState,
                        MoveStraight, Nack, Resume, SetLed, Stop, Subscribe, Turn, encode)
from ble_bridge.robot_side import ALL_CAPABILITIES
from ble_bridge.transport import READY
from ble_bridge.virtual import NusPeripheral
from robotlab import Robot, RobotLabError
from robotlab.backends import bluetooth
from robotlab.errors import RobotConnectionError, RobotValueError
from tests.robotlab.virtual_room import Room

DANISH = re.compile(r"\b(Skriv|skriv|fx|Tjek|Du kan|Der er ingen|skal)\b")
ENGLISH = re.compile(r"\b(Type|type|for example|Check|You can|There is no|must|does not)\b")


# -- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def room(monkeypatch):
    room = Room(monkeypatch)
    yield room
    room.close()


def wait_until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def executed_types(virtual):
    """The types of the commands a virtual robot carried out, heartbeats left out."""
    return [kind for _, kind in virtual.protocol.executed if kind != Heartbeat.TYPE]


def assert_friendly(error, reason, *snippets):
    """A pupil's message: the key, both languages, short, with the line to type."""
    assert isinstance(error, RobotLabError) and error.reason == reason, error
    for lang, own, other in (("da", DANISH, ENGLISH), ("en", ENGLISH, DANISH)):
        text = error.text(lang)
        assert own.search(text) and not other.search(text), text
        assert "\n" not in text and len(text) < 300, text
        for snippet in snippets:
            assert snippet in text, (snippet, text)


# -- handshake, commands, telemetry, completion --------------------------------------------

def test_the_handshake_agrees_on_version_and_frame_size_and_subscribes(room):
    (virtual,) = room.start()
    link = room.link()
    assert link.scan(0.5) == [(virtual.name, 7)]
    info = link.connect(virtual.short_id, find_s=1.0)
    assert (info.protocol_major, info.robot_id, info.watchdog_ms) == (1, 7, 500)
    assert link.name == "RobotLab-07" and link.state == READY
    assert executed_types(virtual)[:2] == [Hello.TYPE, Subscribe.TYPE]
    assert link.next_telemetry(0, 1.0).distance_mm is not None


def test_the_uart_characteristics_are_chosen_by_their_properties_as_on_a_microbit(room):
    (virtual,) = room.start(swap_roles=True)     # 6E400002 notifies, 6E400003 is written
    link = room.link()
    link.connect("RobotLab-07", find_s=1.0)
    assert link.command(SetLed(1, 1, 1)).ack.command_type == SetLed.TYPE
    assert virtual.body.led_rgb == (1, 1, 1)


def test_each_pupil_command_becomes_its_protocol_message_in_wire_units(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="07")
    assert repr(robot) == "Robot('ble', name='RobotLab-07')"
    robot.speed = 100
    robot.forward(10)
    robot.backward(4)
    robot.turn_left(90)
    robot.turn_right(45)
    body = virtual.body
    assert (body.x - 30 - 6, body.y) == (pytest.approx(20, abs=0.05), pytest.approx(75, abs=0.05))
    assert math.degrees(body.theta) == pytest.approx(45, abs=0.1)
    assert (robot.heading(), robot.odometer()) == (pytest.approx(45), pytest.approx(6))
    robot.drive(50, -50)
    wait_until(lambda: body.moving)
    robot.stop()
    assert not body.moving
    robot.led("blå")
    assert body.led_rgb == (0, 60, 255)
    robot.beep(880, 0.1)
    assert body.beeps[-1][1:] == (880, pytest.approx(0.1))
    robot.identify(1)
    wait_until(lambda: body.led_rgb == (255, 255, 255))
    robot.vink(0)
    assert executed_types(virtual)[2:] == [MoveStraight.TYPE, MoveStraight.TYPE, Turn.TYPE, Turn.TYPE,
                                           Drive.TYPE, Stop.TYPE, SetLed.TYPE, 0x41, 0x23, 0x23]


def test_telemetry_arrives_at_the_subscribed_rate_and_readings_follow_it(room):
    room.start()
    robot = room.robot("ble", name="RobotLab-07")
    link = robot._backend._link
    before, start = link.counters.telemetry, time.monotonic()
    times = [robot.time() for _ in range(10)]
    elapsed = time.monotonic() - start
    frames = link.counters.telemetry - before
    assert 18 <= frames / elapsed <= 22, frames / elapsed      # every 50 ms
    assert link.counters.telemetry_missed == 0
    # Each reading waits for the next frame: ten readings take about ten telemetry periods,
    # and each reads a newer frame than the one before (the robot's clock, 50 ms apart).
    assert 0.4 <= elapsed <= 0.75
    assert all(0.03 <= later - earlier <= 0.09 for earlier, later in zip(times, times[1:])), times
    assert robot.distance() == pytest.approx(200 - 50 - 5.5, abs=0.2)   # wall - start - sensor
    assert robot.line() == (False, False) and robot.color() == "hvid" and not robot.bumped()


def test_moves_complete_with_done_and_replaced_moves_are_interrupted(room):
    (virtual,) = room.start()
    link = room.link()
    link.connect(7, find_s=1.0)
    first = link.command(MoveStraight(1000, 30))
    assert not link.motion_done(first.seq)
    turn = link.command(Turn(4500, 100))
    assert link.wait_done(first.seq) == MotionState.INTERRUPTED
    assert link.wait_done(turn.seq, timeout=2.0) == MotionState.COMPLETED
    stop = link.command(Stop())
    assert link.wait_done(stop.seq, timeout=1.0) == MotionState.COMPLETED
    assert link.counters.retransmissions == 0


def test_a_move_started_without_waiting_reports_done_later(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    robot.fart = 100
    robot.frem(10, vent=False)
    assert robot.odometer() < 10
    robot.vent(1.0)
    assert robot.odometer() == pytest.approx(10, abs=0.1) and not virtual.body.moving


def test_a_room_of_30_robots_each_reached_by_its_own_client(room):
    robots = room.start(30, first_id=0x20)
    links = [room.link() for _ in robots]

    def connect(link_and_robot):
        link, virtual = link_and_robot
        info = link.connect(virtual.short_id, find_s=3.0)
        link.command(SetLed(0, 0, virtual.short_id))
        return info.robot_id

    with ThreadPoolExecutor(len(links)) as pool:
        ids = list(pool.map(connect, zip(links, robots)))
    assert ids == [virtual.short_id for virtual in robots]
    for virtual in robots:
        assert executed_types(virtual) == [Hello.TYPE, Subscribe.TYPE, SetLed.TYPE]
        assert virtual.body.led_rgb == (0, 0, virtual.short_id)


# -- faults ------------------------------------------------------------------------------------

def test_a_link_dropped_mid_move_stops_the_robot_and_the_move_never_runs_twice(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    link = robot._backend._link
    world, body = virtual.world, virtual.body
    stopped_after = []

    def drop():
        dropped_at = room.on_radio(lambda: world.time_s)
        virtual.drop_link().result(2.0)
        wait_until(lambda: not room.on_radio(lambda: body.moving))
        stopped_after.append(room.on_radio(lambda: world.time_s) - dropped_at)

    threading.Timer(0.6, drop).start()
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(60)
    assert_friendly(info.value, "ble_link_interrupted", "RobotLab-07")
    wait_until(lambda: stopped_after)
    assert stopped_after[0] < 0.5                       # robot time
    driven = robot.odometer()
    assert 5 < driven < 20
    assert link.losses == 1 and link.state == READY    # reconnected by itself
    robot.forward(5)
    assert robot.odometer() == pytest.approx(driven + 5, abs=0.1)
    assert executed_types(virtual).count(MoveStraight.TYPE) == 2   # the 60 cm once, then 5 cm
    assert executed_types(virtual).count(Hello.TYPE) == 2


def drop_the_link_on(virtual, command_type, *, carried_out):
    """Make ``virtual`` lose its link when the next frame of ``command_type`` arrives: after
    carrying it out with its answers swallowed (``carried_out``), or before it gets it at all.
    Returns the list the dropped frame is put into (radio loop)."""
    protocol, dropped = virtual.protocol, []
    original = protocol.receive

    def receive(data):
        if dropped or len(data) < 2 or data[1] != command_type:
            original(data)
            return
        dropped.append(bytes(data))
        if carried_out:
            virtual.peripheral.notify = lambda frame: None    # the answers are lost
            try:
                original(data)
            finally:
                del virtual.peripheral.notify
        virtual.drop_link()

    protocol.receive = receive
    return dropped


def seqs_executed(virtual, command_type):
    return [seq for seq, kind in virtual.protocol.executed if kind == command_type]


def test_a_command_whose_ack_a_dropped_link_swallowed_runs_once_after_the_session_resumes(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    link = robot._backend._link
    assert link.info.session_token is not None
    dropped = drop_the_link_on(virtual, SetLed.TYPE, carried_out=True)
    robot.led("rød")                                     # returns normally, after the reconnect
    assert dropped and link.losses == 1 and link.state == READY
    assert virtual.body.led_rgb == (255, 0, 0)
    # Sent twice with the same seq, carried out once: the second ACK came from the window.
    (seq,) = seqs_executed(virtual, SetLed.TYPE)
    assert seq == dropped[0][2]
    assert len(seqs_executed(virtual, Resume.TYPE)) == 1
    assert executed_types(virtual).count(Hello.TYPE) == 2
    robot.forward(2)                                     # and the next call knows nothing of it
    assert executed_types(virtual).count(MoveStraight.TYPE) == 1


def test_a_move_the_robot_never_got_before_the_link_dropped_runs_once_after_the_resume(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    link = robot._backend._link
    robot.speed = 100
    dropped = drop_the_link_on(virtual, MoveStraight.TYPE, carried_out=False)
    robot.forward(5)                                     # returns normally: the move ran once
    assert dropped and link.losses == 1
    assert robot.odometer() == pytest.approx(5, abs=0.1)
    assert seqs_executed(virtual, MoveStraight.TYPE) == [dropped[0][2]]


def test_a_move_the_dropped_link_stopped_is_not_run_again_after_the_resume(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    dropped = drop_the_link_on(virtual, MoveStraight.TYPE, carried_out=True)
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(60)
    assert_friendly(info.value, "ble_link_interrupted", "RobotLab-07")
    assert dropped and robot._backend._link.state == READY
    assert robot.odometer() < 5                          # stopped at once by the lost link
    assert seqs_executed(virtual, MoveStraight.TYPE) == [dropped[0][2]]   # once, not twice
    assert len(seqs_executed(virtual, Resume.TYPE)) == 1


def test_a_client_that_stops_heartbeating_trips_the_robots_watchdog(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    link = robot._backend._link
    robot.drive(30, 30)
    wait_until(lambda: virtual.body.moving)
    # Freeze the client's background loop, as if its program hung: no heartbeats go out.
    asyncio.run_coroutine_threadsafe(_freeze(1.0), link._loop)
    wait_until(lambda: virtual.protocol.watchdog_trips == 1, timeout=1.5)
    assert not virtual.body.moving
    wait_until(lambda: link.watchdog_trips == 1, timeout=3.0)   # HEARTBEAT_ACK tells the client
    assert link.state == READY and link.losses == 0


async def _freeze(seconds):
    time.sleep(seconds)   # blocks the loop on purpose


def test_garbage_on_the_link_does_not_stop_the_next_command(room):
    (virtual,) = room.start()
    link = room.link()
    link.connect(7, find_s=1.0)
    assert link.write_raw(bytes([0x09, 0x30, 0x55, 0x01, 0xFF, 0x13]))      # cut short
    assert link.write_raw(bytes(range(0x20, 0x34)))                         # noise
    assert link.write_raw(encode(SetLed(1, 2, 3), 200)[:-1] + b"\x00")     # bad CRC
    accepted = link.command(SetLed(9, 9, 9))
    assert accepted.ack.command_type == SetLed.TYPE
    assert executed_types(virtual)[2:] == [SetLed.TYPE]
    assert virtual.body.led_rgb == (9, 9, 9)
    assert link.counters.corrupt == 0   # nothing garbled came back


class OtherVersionRobot:
    """A robot of another major version: answers every HELLO with NACK VERSION and its major.

    ``ble_bridge.robot_side`` speaks only this package's version, so the
    other firmware is written here on the same codec and virtual peripheral.
    """

    def __init__(self, radio, name, major):
        self.major, self.reader = major, FrameReader()
        self.peripheral = NusPeripheral(radio, name, self._on_receive)
        self.peripheral.start()

    def _on_receive(self, data):
        for item in self.reader.feed(data) + self.reader.flush():
            if isinstance(item, Decoded) and isinstance(item.message, Hello):
                self.peripheral.notify(encode(Nack(Hello.TYPE, ErrorCode.VERSION, self.major), item.seq))

    def close(self):
        self.peripheral.stop()


@pytest.mark.parametrize("major, reason", [(2, "ble_update_robotlab"), (0, "ble_update_firmware")])
def test_a_robot_of_another_major_version_says_which_side_to_update(room, major, reason):
    room.closables.append(OtherVersionRobot(room.radio, "RobotLab-2A", major))
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="RobotLab-2A")
    assert_friendly(info.value, reason, "RobotLab-2A", f"{major}.x", "1.1")
    if major > 1:
        assert "pip install -U robotlab" in info.value.text("en")


def test_a_robot_that_never_answers_gives_a_time_out_not_a_hang(room):
    (virtual,) = room.start()
    virtual.set_silent(True)
    start = time.monotonic()
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="RobotLab-07")
    assert time.monotonic() - start < 4.0
    assert_friendly(info.value, "ble_no_answer", 'Robot("ble", name="RobotLab-07")')
    # And one that falls silent during a session.
    virtual.set_silent(False)
    robot = room.robot("ble", name="RobotLab-07")
    virtual.set_silent(True)
    start = time.monotonic()
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(10)
    assert time.monotonic() - start < 3.0
    assert_friendly(info.value, "ble_no_answer", "RobotLab-07")


def test_a_link_that_does_not_come_back_is_reported_as_lost(room):
    (virtual,) = room.start()
    robot = room.robot("ble", name="RobotLab-07")
    virtual.stop()     # switched off: the link drops and nobody advertises
    start = time.monotonic()
    with pytest.raises(RobotConnectionError) as info:
        robot.forward(10)
    assert time.monotonic() - start < 3.0
    assert_friendly(info.value, "ble_link_lost", 'Robot("ble", name="RobotLab-07")')
    with pytest.raises(RobotConnectionError):
        robot.turn_left(90)
    robot.close()


def test_a_command_the_robot_refuses_is_named_with_the_reason(room):
    (virtual,) = room.start()
    virtual.protocol.info = replace(virtual.protocol.info,
                                    capabilities=ALL_CAPABILITIES & ~Capability.BUZZER)
    robot = room.robot("ble", name="RobotLab-07")
    with pytest.raises(RobotConnectionError) as info:
        robot.beep(440, 0.1)
    assert_friendly(info.value, "ble_refused", "robot.beep()", "UNSUPPORTED", "RobotLab-07")
    assert not virtual.body.beeps


# -- finding the robot ----------------------------------------------------------------------------

def test_no_robot_in_range(room):
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble")
    assert_friendly(info.value, "ble_no_robot", 'Robot("ble")')


def test_several_robots_in_range_and_no_name_lists_them(room):
    room.start(3)
    with pytest.raises(RobotConnectionError) as info:
        room.robot("bluetooth")
    assert_friendly(info.value, "ble_several_robots", "RobotLab-07, RobotLab-08, RobotLab-09",
                    'Robot("ble", name="RobotLab-07")')
    # With the name it works, and so does the number on the sticker.
    assert room.robot("ble", name="RobotLab-08")._backend.info.robot_id == 8
    assert room.robot("ble", name=9)._backend.info.robot_id == 9


def test_running_the_cell_again_takes_the_robot_over_from_the_earlier_robot(room):
    (virtual,) = room.start()
    first = room.robot("ble")
    second = room.robot("ble")        # the robot accepts one link: the first one lets go
    second.forward(1)
    with pytest.raises(RobotConnectionError) as info:
        first.forward(1)
    assert info.value.reason == "robot_closed"
    assert executed_types(virtual).count(Hello.TYPE) == 2


def test_an_unknown_name_suggests_the_closest_robot_in_range(room):
    room.start(2)
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="RobotLab-O7")      # the letter O for a zero
    assert_friendly(info.value, "ble_unknown_name", '"RobotLab-O7"', 'Robot("ble", name="RobotLab-07")',
                    "RobotLab-08")
    assert "did_you_mean" in str(info.value.params["hint"].key)
    with pytest.raises(RobotConnectionError) as info:
        room.robot("ble", name="Robbie")
    assert info.value.reason == "ble_unknown_name" and '"Robbie"' in str(info.value)


def test_a_name_and_no_robots_at_all(room):
    with pytest.raises(RobotConnectionError) as info:
        room.robot(name="RobotLab-07")      # a name alone means Bluetooth
    assert_friendly(info.value, "ble_no_robot", 'Robot("ble", name="RobotLab-07")')


class NoAdapterScanner(BaseBleakScanner):
    """bleak's own error for a computer without Bluetooth (a school's JupyterHub server)."""

    def __init__(self, detection_callback, service_uuids, *args, **kwargs):
        super().__init__(detection_callback, service_uuids)

    async def start(self):
        raise BleakBluetoothNotAvailableError("no Bluetooth adapter",
                                              BleakBluetoothNotAvailableReason.NO_BLUETOOTH)

    async def stop(self):
        pass


def test_no_bluetooth_on_the_computer_suggests_the_simulator():
    bluetooth.use_bleak_backends(NoAdapterScanner, None)
    try:
        with pytest.raises(RobotConnectionError) as info:
            Robot("ble")
    finally:
        bluetooth.use_bleak_backends(None, None)
    assert_friendly(info.value, "ble_no_bluetooth", "Robot()")


def test_a_robot_name_with_the_simulator_says_to_choose_bluetooth():
    with pytest.raises(RobotValueError) as info:
        Robot("sim", name="RobotLab-07")
    assert_friendly(info.value, "name_needs_ble", "Robot(\"ble\", name='RobotLab-07')")
    with pytest.raises(TypeError) as info:
        Robot("ble", name=7.5)
    assert info.value.reason == "name_expected"


def test_identify_on_the_simulator_only_checks_its_value():
    robot = Robot(noise=False)
    robot.identify()
    robot.vink(sekunder=2)
    with pytest.raises(RobotValueError):
        robot.identify(-1)


# -- the same pupil script on the simulator and on a robot ----------------------------------------

def square(robot):
    robot.speed = 100
    for _ in range(4):
        robot.forward(20)
        robot.turn_left(90)


def wall_approach(robot):
    robot.drive(80, 80)
    while robot.distance() >= 15:
        pass
    robot.stop()


@pytest.mark.parametrize("script, tolerance_cm", [(square, 0.5), (wall_approach, 2.0)])
def test_a_pupil_script_does_the_same_on_the_simulator_and_on_the_robot(room, script, tolerance_cm):
    simulated = Robot(arena="mur", noise=False)
    script(simulated)
    (virtual,) = room.start(arena="mur")
    real = room.robot("ble", name="RobotLab-07")
    script(real)
    sim_body, ble_body = simulated._backend.body, virtual.body
    assert math.dist((sim_body.x, sim_body.y), (ble_body.x, ble_body.y)) < tolerance_cm
    assert math.degrees(sim_body.theta - ble_body.theta) == pytest.approx(0, abs=1.0)
    assert real.distance() == pytest.approx(simulated.distance(), abs=tolerance_cm + 0.5)
    assert real.heading() == pytest.approx(simulated.heading(), abs=1.0)


def test_an_experiment_records_a_real_robot_like_the_simulator_and_compares_them(room, tmp_path):
    """The same experiment code with a Bluetooth robot and with the simulator."""
    from robotlab import Experiment
    from robotlab.experiment_plot import plot

    def run(robot, folder):
        exp = Experiment("Hvor langt kører robotten?", folder=tmp_path / folder)
        exp.hypothesis("Den kører 20 cm", prediction=20, measurement="kørt_cm")
        exp.trial(fart=50)
        for _ in range(2):
            robot.reset()
            robot.forward(20)
            exp.record(robot=robot)
        return exp

    room.start()
    real = run(room.robot("ble"), "robot")
    sim = run(Robot(noise=False), "sim")
    for exp, source in ((real, "ble"), (sim, "simulator")):
        rows = exp.rows()
        assert [r["kørt_cm"] for r in rows] == [pytest.approx(20, abs=0.2)] * 2
        assert all(r["tid_s"] > 0 and 0 < r["afstand_cm"] <= 200 for r in rows)
        assert {row["source"] for c in exp.cycles for row in c.rows} == {source}
    figure = sim.compare(real)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert any(t.startswith("simulator") for t in labels)
    assert any(t.startswith("rigtig robot") for t in labels)
    assert len(plot([sim, real]).axes) == 1
