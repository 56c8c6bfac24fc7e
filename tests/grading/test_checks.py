"""Validity of the grading checks: a correct solution passes, plausible wrong ones fail.

Robots run as in autograding: the simulator with noise on and the fixed seed
(grading.course.DEFAULT_SEED), unpaced.
"""

import os
import time

import pytest
from jupyter_client import KernelManager

from grading import checks
from grading.course import DEFAULT_SEED
from robotlab import Experiment, Robot


def robot_in(arena="tom"):
    return Robot(arena=arena, seed=DEFAULT_SEED)


# -- programs a pupil might write ---------------------------------------------------

def square(side=30, turn=90, sides=4):
    def program(robot):
        for _ in range(sides):
            robot.forward(side)
            robot.turn_left(turn)
    return program


def line_follower(steps=900):
    def program(robot):
        for _ in range(steps):
            left, right = robot.line()
            if left and not right:
                robot.drive(5, 30)
            elif right and not left:
                robot.drive(30, 5)
            else:
                robot.drive(30, 30)
        robot.stop()
    return program


def stop_at_wall(gap=8):
    def program(robot):
        while robot.distance() > gap:
            robot.forward(2)
        robot.stop()
    return program


def forward(cm):
    return lambda robot: robot.forward(cm)


def drive_on():
    def program(robot):
        robot.drive(40, 40)
        robot.wait(1)
    return program


CASES = [
    # check, arena, program, passes
    pytest.param(lambda r: checks.drove_square(r, 30), "tom", square(), True, id="square-correct"),
    pytest.param(lambda r: checks.drove_square(r, 30), "tom", square(sides=3), False,
                 id="square-three-sides"),
    pytest.param(lambda r: checks.drove_square(r, 30), "tom", square(turn=80), False,
                 id="square-wrong-turn"),
    pytest.param(lambda r: checks.drove_square(r, 30), "tom", square(side=40), False,
                 id="square-wrong-size"),
    pytest.param(lambda r: checks.drove_square(r, 30), "tom", forward(120), False,
                 id="square-straight"),
    pytest.param(lambda r: checks.drove_square(r, 30), "tom",
                 lambda r: (square()(r), square()(r)), False, id="square-twice"),
    pytest.param(lambda r: checks.reached_goal(r), "mur", forward(155), True, id="goal-correct"),
    pytest.param(lambda r: checks.reached_goal(r), "mur", forward(100), False, id="goal-short"),
    pytest.param(lambda r: checks.reached_goal(r), "mur",
                 lambda r: (r.turn_left(90), r.forward(60)), False, id="goal-wrong-way"),
    pytest.param(lambda r: checks.followed_line(r, 80, track_cm=300), "linje", line_follower(),
                 True, id="line-correct"),
    pytest.param(lambda r: checks.followed_line(r, 80, track_cm=300), "linje", forward(95),
                 False, id="line-straight-on"),
    pytest.param(lambda r: checks.followed_line(r, 80, track_cm=300), "linje",
                 line_follower(steps=60), False, id="line-gives-up"),
    pytest.param(lambda r: checks.followed_line(r, 80, track_cm=300), "linje",
                 lambda r: None, False, id="line-never-moves"),
    pytest.param(lambda r: checks.stopped_before_wall(r, 10), "mur", stop_at_wall(), True,
                 id="wall-correct"),
    pytest.param(lambda r: checks.stopped_before_wall(r, 10), "mur", forward(300), False,
                 id="wall-crash"),
    pytest.param(lambda r: checks.stopped_before_wall(r, 10), "mur", forward(60), False,
                 id="wall-too-early"),
    pytest.param(lambda r: checks.stopped_before_wall(r, 10), "mur", drive_on(), False,
                 id="wall-still-driving"),
    pytest.param(lambda r: checks.light_on(r), "tom", lambda r: r.led("green"), True,
                 id="light-correct"),
    pytest.param(lambda r: checks.light_on(r), "tom", lambda r: r.led("off"), False,
                 id="light-off"),
    pytest.param(lambda r: checks.light_on(r), "tom", lambda r: (r.led("red"), r.led(0, 0, 0)),
                 False, id="light-switched-off-again"),
    pytest.param(lambda r: checks.beeped(r), "tom", lambda r: r.beep(440, 0.2), True,
                 id="beep-correct"),
    pytest.param(lambda r: checks.beeped(r), "tom", forward(10), False, id="beep-none"),
    pytest.param(lambda r: checks.beeped(r, 2), "tom", lambda r: r.beep(440, 0.2), False,
                 id="beep-too-few"),
    pytest.param(lambda r: checks.never_collided(r), "tom", square(), True, id="collide-correct"),
    pytest.param(lambda r: checks.never_collided(r), "tom", forward(300), False,
                 id="collide-into-wall"),
]


@pytest.mark.parametrize("check, arena, program, passes", CASES)
def test_each_robot_check_passes_a_correct_solution_and_fails_a_wrong_one(check, arena, program,
                                                                            passes):
    robot = robot_in(arena)
    program(robot)
    if passes:
        check(robot)
    else:
        with pytest.raises(AssertionError) as failure:
            check(robot)
        text = str(failure.value)
        # Short, in Danish, and it says what to try.
        assert 20 < len(text) < 300 and any(w in text for w in ("Prøv", "Tjek", "Kør", "Stop",
                                                                 "Start", "Brug", "Passer"))


def concluded_experiment(folder, cycles, *, prediction=30, measured=29, supported=True):
    exp = Experiment("Hvor langt?", folder=folder)
    for n in range(cycles):
        (exp.hypothesis if n == 0 else exp.revise)("Den kører langt", prediction=prediction)
        exp.record(afstand=measured)
        exp.conclude("Sådan gik det", supported=supported)
    return exp


EXPERIMENT_CASES = [
    pytest.param(lambda e: checks.experiment_cycles(e, 2), dict(cycles=2), True, id="cycles-ok"),
    pytest.param(lambda e: checks.experiment_cycles(e, 2), dict(cycles=1), False,
                 id="cycles-too-few"),
    pytest.param(lambda e: checks.predicted_before_testing(e), dict(cycles=2), True,
                 id="prediction-ok"),
    pytest.param(lambda e: checks.predicted_before_testing(e), dict(cycles=1, prediction=None),
                 False, id="prediction-missing"),
    pytest.param(lambda e: checks.conclusions_match_data(e), dict(cycles=2), True,
                 id="conclusion-ok"),
    pytest.param(lambda e: checks.conclusions_match_data(e),
                 dict(cycles=1, measured=18, supported=False), True, id="conclusion-ok-rejected"),
    pytest.param(lambda e: checks.conclusions_match_data(e),
                 dict(cycles=1, measured=18, supported=True), False, id="conclusion-wishful"),
    pytest.param(lambda e: checks.conclusions_match_data(e),
                 dict(cycles=1, measured=30, supported=False), False, id="conclusion-too-modest"),
]


@pytest.mark.parametrize("check, made, passes", EXPERIMENT_CASES)
def test_each_experiment_check_passes_a_good_experiment_and_fails_a_weak_one(check, made, passes,
                                                                              tmp_path):
    exp = concluded_experiment(tmp_path, **made)
    if passes:
        check(exp)
    else:
        with pytest.raises(AssertionError):
            check(exp)


def test_checks_say_when_they_are_given_the_wrong_thing(tmp_path):
    with pytest.raises(AssertionError, match="simulerede robot"):
        checks.never_collided("robot")
    with pytest.raises(AssertionError, match="dit eksperiment"):
        checks.experiment_cycles(None)
    with pytest.raises(AssertionError, match="ingen målfelt"):
        checks.reached_goal(robot_in("tom"))


def test_english_messages(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    robot = robot_in("tom")
    robot.forward(120)
    with pytest.raises(AssertionError, match="The square is not closed"):
        checks.drove_square(robot, 30)


def test_a_program_that_never_ends_is_stopped_with_a_friendly_message():
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, "ROBOTLAB_TIME_LIMIT": "2", "ROBOTLAB_PACE": "max"})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)

        def run(code):
            out = []

            def hook(message):
                if message["msg_type"] == "stream":
                    out.append(message["content"]["text"])

            reply = client.execute_interactive(code, timeout=30, output_hook=hook)
            return reply["content"]["status"], "".join(out)

        # The cell that first imports robotlab gets the limit too.
        started = time.monotonic()
        status, out = run("import robotlab\nwhile True:\n    pass")
        assert status == "error" and "Programmet blev stoppet efter 2 sekunder" in out
        assert time.monotonic() - started < 25
        assert run("from robotlab import Robot\nrobot = Robot()")[0] == "ok"
        started = time.monotonic()
        status, out = run("while True:\n    pass")
        assert status == "error" and "Programmet blev stoppet efter 2 sekunder" in out
        assert time.monotonic() - started < 25        # stopped by the limit, not the backstop
        status, out = run("while robot.distance() > 5:\n    pass")   # waits for a wall it never drives to
        assert status == "error" and "Programmet blev stoppet" in out
        assert run("print('next')") == ("ok", "next\n")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


PERSONAL = {"dit navn": True, "robottens fart": False, "hvor gammel du er": True}


@pytest.mark.parametrize("answers, passes, says", [
    pytest.param(dict(PERSONAL), True, None, id="all-right"),
    pytest.param({**PERSONAL, "noget ekstra": True}, True, None, id="extra-item-ignored"),
    pytest.param({**PERSONAL, "robottens fart": True}, False, "2 af 3 svar er rigtige",
                 id="one-wrong"),
    pytest.param({**PERSONAL, "dit navn": None}, False, '"dit navn" har ikke noget svar',
                 id="not-answered"),
    pytest.param({"dit navn": True}, False, '"robottens fart" har ikke noget svar', id="missing"),
    pytest.param({**PERSONAL, "dit navn": "ja"}, False, "har ikke noget svar", id="text-answer"),
    pytest.param(["dit navn"], False, "din tabel med True og False", id="not-a-table"),
])
def test_classified_like_passes_the_key_and_names_the_first_wrong_item(answers, passes, says):
    if passes:
        checks.classified_like(answers, PERSONAL)
        return
    with pytest.raises(AssertionError) as info:
        checks.classified_like(answers, PERSONAL)
    assert says in str(info.value) and len(str(info.value)) < 300


def test_classified_like_speaks_english(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    with pytest.raises(AssertionError, match='look again at "robottens fart"'):
        checks.classified_like({**PERSONAL, "robottens fart": True}, PERSONAL)
    with pytest.raises(AssertionError, match="Write True or False instead of None"):
        checks.classified_like({}, PERSONAL)
    with pytest.raises(AssertionError, match="table of True and False"):
        checks.classified_like(None, PERSONAL)
