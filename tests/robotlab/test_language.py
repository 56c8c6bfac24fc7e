"""A notebook chooses its language: set_language / sæt_sprog."""

import os

import pytest

from robotlab import Experiment, RobotLabError, Robot
from robotlab.i18n import language, message, set_language, sæt_sprog


@pytest.fixture(autouse=True)
def server_language(monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "da")      # the server's default; each test changes it


def test_an_english_notebook_on_a_danish_server_measures_in_english(tmp_path):
    set_language("en")
    assert language() == "en" and os.environ["ROBOTLAB_LANG"] == "en"
    robot = Robot(noise=False)
    exp = Experiment("How far?", folder=tmp_path)
    exp.hypothesis("20 cm", prediction=20, measurement="driven_cm")
    robot.forward(20)
    exp.record(robot=robot)
    assert set(exp.rows()[0]) >= {"driven_cm", "time_s", "distance_cm"}
    sæt_sprog("da")
    assert language() == "da"


@pytest.mark.parametrize("wrong", ["de", "dansk", 1, None])
def test_a_language_robotlab_does_not_speak(wrong):
    with pytest.raises(RobotLabError) as raised:
        set_language(wrong)
    assert str(raised.value) == message("language_unknown", got=repr(wrong),
                                        languages='"da", "en"')
    assert 'sæt_sprog("da")' in str(raised.value)
    assert language() == "da"                    # nothing changed
    set_language(" EN ")                         # case and spaces are forgiven
    assert language() == "en"


def test_a_pair_of_readings_prints_in_the_pupils_language():
    robot = Robot(arena="linje", noise=False)
    reading = robot.line()
    assert repr(reading) == f"(venstre={reading.left!r}, højre={reading.right!r})"
    set_language("en")
    assert str(reading) == f"(left={reading.left!r}, right={reading.right!r})"
    left, right = reading                      # still a pair to unpack
    assert (left, right) == (reading.venstre, reading.højre)
