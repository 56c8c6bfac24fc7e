"""The pupil API on the simulator: moves, sensors, aliases, virtual time."""

import math

import pytest

from robotlab import Robot
from robotlab.robot import DANISH, PUPIL_NAMES


def body(robot):
    return robot._backend.body


def test_a_square_through_the_pupil_api_closes_with_noise_off():
    robot = Robot(arena="firkant", noise=False)
    for _ in range(4):
        robot.forward(20)
        robot.turn_left(90)
    start = robot._backend.world.arena.start
    assert math.hypot(body(robot).x - start.x_cm, body(robot).y - start.y_cm) < 1.0
    assert robot.heading() == pytest.approx(360, abs=0.1)
    assert robot.odometer() == pytest.approx(80, abs=0.1)


def test_danish_aliases_do_the_same_as_english():
    english, danish = Robot(noise=False), Robot(noise=False)
    english.forward(30)
    english.turn_right(45)
    english.backward(5)
    english.drive(left=40, right=20)
    english.wait(1.5)
    english.stop()
    danish.frem(30)
    danish.drej_højre(grader=45)
    danish.tilbage(5)
    danish.kør(venstre=40, højre=20)
    danish.vent(sekunder=1.5)
    danish.stop()
    a, b = body(english), body(danish)
    assert (a.x, a.y, a.theta) == pytest.approx((b.x, b.y, b.theta), abs=1e-9)
    assert english.time() == danish.tid()
    assert english.heading() == danish.retning() and english.odometer() == danish.kørt()


def test_every_method_has_a_danish_alias_with_the_same_documentation():
    for english, (danish, _) in DANISH.items():
        assert hasattr(Robot, danish), danish
        assert getattr(Robot, english).__doc__ == getattr(Robot, danish).__doc__
        assert danish in PUPIL_NAMES and english in PUPIL_NAMES


def test_every_pupil_method_documents_an_example():
    for name in PUPIL_NAMES:
        doc = getattr(Robot, name).__doc__ or ""
        assert "Example" in doc or "Examples" in doc, name


def test_tab_completion_shows_pupil_names_only():
    names = dir(Robot(noise=False))
    assert "forward" in names and "frem" in names and "drej_højre" in names
    assert not [n for n in names if n.startswith("_")]


def test_speed_changes_how_long_a_move_takes():
    slow, fast = Robot(noise=False), Robot(noise=False)
    slow.speed = 20
    fast.fart = 100
    slow.forward(30)
    fast.forward(30)
    assert slow.time() > 2 * fast.time()
    assert slow.speed == 20 and fast.speed == 100 == fast.fart


def test_wait_false_returns_at_once_and_the_move_goes_on_in_virtual_time():
    robot = Robot(noise=False)
    robot.forward(30, wait=False)
    assert robot.odometer() < 1
    robot.wait(5)
    assert robot.odometer() == pytest.approx(30, abs=0.05)
    robot.frem(10, vent=False)
    robot.wait(0.4)
    robot.stop()
    assert 30.5 < robot.odometer() < 39


def test_a_new_move_replaces_an_unfinished_one():
    robot = Robot(noise=False)
    robot.forward(100, wait=False)
    robot.wait(0.5)
    robot.turn_left(90)
    assert robot.heading() == pytest.approx(90, abs=0.5)
    assert robot.odometer() < 10


def test_drive_then_wait_covers_speed_times_time():
    robot = Robot(noise=False)
    robot.drive(50, 50)
    robot.wait(3)
    top = robot._backend.profile.top_speed_cm_s
    ramp = 0.5 * top / robot._backend.profile.acceleration_cm_s2
    # The read itself lets one more telemetry period (0.05 s) pass.
    assert robot.odometer() == pytest.approx(0.5 * top * (3.05 - ramp / 2), abs=0.06)


def test_a_sensor_read_lets_one_telemetry_period_pass():
    robot = Robot(noise=False)
    before = robot.time()
    robot.distance()
    assert robot.time() - before == pytest.approx(2 * 0.05)


def test_busy_wait_on_the_distance_sensor_ends_before_the_wall():
    robot = Robot(arena="mur", noise=False)
    robot.drive(60, 60)
    while robot.distance() > 10:
        pass
    robot.stop()
    assert not robot.bumped()
    assert 0 < robot.distance() < 10


def test_busy_wait_on_the_bumper_and_the_clock_end():
    robot = Robot(arena="mur")
    robot.kør(50, 50)
    while not robot.stødt():
        pass
    assert robot.bumped()
    while robot.time() < robot.time() + 0 and robot.time() < 60:
        pass
    start = robot.tid()
    while robot.tid() < start + 3:
        pass
    assert robot.time() >= start + 3


def test_line_and_reflection_pairs_read_by_name_in_both_languages():
    robot = Robot(arena="linje", noise=False)
    line = robot.line()
    assert line == (False, False) and line.left is False and line.højre is False
    reflection = robot.refleksion()
    assert reflection.venstre > 90 and reflection.right > 90


def test_colour_names_compare_equal_in_both_languages(monkeypatch):
    robot = Robot(arena="farver", noise=False)
    robot.forward(33)        # the colour sensor over the red field
    colour = robot.color()
    assert colour == "rød" and colour == "red" and colour == "Red" and colour != "blue"
    assert str(colour) == "rød"
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    assert str(robot.farve()) == "red"


def test_led_and_beep_reach_the_robot():
    robot = Robot(noise=False)
    robot.led("grøn")
    assert body(robot).led_rgb == (0, 200, 0)
    robot.lys(10, 20, 30)
    assert body(robot).led_rgb == (10, 20, 30)
    robot.led("off")
    assert body(robot).led_rgb == (0, 0, 0)
    before = robot.time()
    robot.bip(880, sekunder=0.5)
    assert body(robot).beeps[-1][1:] == (880, 0.5)
    assert robot.time() - before == pytest.approx(0.5 + 0.05)


def test_reset_puts_the_robot_back_and_clears_its_counters():
    robot = Robot(arena="linje")
    robot.forward(30)
    robot.turn_left(30)
    robot.nulstil()
    start = robot._backend.world.arena.start
    assert (body(robot).x, body(robot).y) == (start.x_cm, start.y_cm)
    assert robot.time() == pytest.approx(0.05)
    assert robot.odometer() == 0 and abs(robot.heading()) < 1
    assert len(body(robot).trail) == 1


def test_two_robots_share_one_world_and_see_each_other():
    first = Robot(arena="tom", noise=False)
    second = Robot(world=first, noise=False)
    assert second._backend.world is first._backend.world
    first.forward(20)
    assert len(first._backend.world.robots) == 2


def test_seed_from_the_environment_makes_runs_repeatable(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_SEED", "77")

    def run():
        robot = Robot(arena="firkant")
        for _ in range(4):
            robot.forward(20)
            robot.turn_left(90)
        return body(robot).x, body(robot).y, robot.heading()

    assert run() == run()
    assert Robot().seed == 77


def test_closed_robot_says_so():
    robot = Robot()
    robot.close()
    with pytest.raises(ConnectionError) as info:
        robot.forward(10)
    assert "Robot()" in str(info.value)
    assert repr(robot) == "Robot(closed)"


def test_repr_names_backend_and_arena():
    assert repr(Robot(arena="maze")) == "Robot('simulator', arena='labyrint')"


def test_import_robotlab_loads_no_simulator_or_heavy_libraries():
    import subprocess
    import sys
    code = ("import sys, robotlab; "
            "print(sorted(m for m in ('pygame', 'numpy', 'matplotlib', 'simulator', 'IPython') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_robot_kind_from_the_environment(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_ROBOT", "simulator")
    assert Robot()._backend.kind == "simulator"
    # LEGO hubs are found over Bluetooth, which this machine does not have either.
    monkeypatch.setenv("ROBOTLAB_ROBOT", "lego")
    with pytest.raises(ConnectionError) as info:
        Robot()
    assert info.value.reason == "ble_no_bluetooth"
    # This machine has no Bluetooth adapter: the pupil hears so, in a sentence.
    monkeypatch.setenv("ROBOTLAB_ROBOT", "ble")
    with pytest.raises(ConnectionError) as info:
        Robot()
    assert info.value.reason == "ble_no_bluetooth"
