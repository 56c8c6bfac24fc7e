"""RobotLab's 2D robot simulator (pygame-ce).

Units: cm, degrees, seconds. Imports nothing from the rest of RobotLab.
"""

from .arena import Arena, ArenaFileError, Pose, Zone, builtin_arena_names, load_arena
from .body import SimRobot
from .clock import Pacer
from .profile import RobotProfile, load_profile
from .world import World

__all__ = ["Arena", "ArenaFileError", "Pose", "Zone", "builtin_arena_names", "load_arena",
           "SimRobot", "Pacer", "RobotProfile", "load_profile", "World"]
