"""RobotLab: program a classroom robot, or its simulator, from a notebook.

    from robotlab import Robot
    robot = Robot()          # the simulator
    robot.forward(20)        # or robot.frem(20)

Units: cm, degrees, seconds, percent. Messages are Danish; set
ROBOTLAB_LANG=en for English.
"""

__version__ = "0.1.0"

__all__ = [
    # the robot
    "Robot",
    # hypothesis -> test cycles
    "Experiment",
    "Eksperiment",
    # what RobotLab knows about you
    "what_is_stored",
    "hvad_er_gemt",
    # the notebook's language
    "set_language",
    "sæt_sprog",
    # errors a pupil may want to catch
    "RobotLabError",
]

from .errors import RobotLabError
from .i18n import set_language, sæt_sprog
from .robot import Robot
from .experiment import Eksperiment, Experiment
from .privacy import hvad_er_gemt, what_is_stored
from .notebook import show_errors_briefly as _show_errors_briefly

_show_errors_briefly()
