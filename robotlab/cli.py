"""The ``robotlab`` command.

    robotlab sim [--arena NAME]    the simulator in a desktop window (pedagogues)
    robotlab arenas                the built-in arenas
"""

from __future__ import annotations

import argparse
import sys

from . import loading
from .errors import RobotLabError
from .i18n import language, message


def _arena_or_exit(name: str):
    try:
        return loading.arena(name, call="robotlab sim", param="--arena")
    except RobotLabError as error:
        sys.exit(str(error))


def _sim(args) -> int:
    from simulator import World
    from simulator.window import SimWindow
    world = World(_arena_or_exit(args.arena))
    world.add_robot(noise=not args.no_noise)
    SimWindow(world, title=message("sim_window_title")).run(args.frames)
    return 0


def _arenas(_args) -> int:
    from simulator import builtin_arena_names, load_arena
    lang = language()
    for stem in sorted(set(builtin_arena_names().values())):
        arena = load_arena(stem)
        title = arena.titles.get(lang, stem)
        aliases = ", ".join(arena.aliases)
        print(f"{stem:10} {title:24} {arena.width_cm:g} x {arena.height_cm:g} cm  ({aliases})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="robotlab", description="RobotLab")
    commands = parser.add_subparsers(dest="command", required=True)
    sim = commands.add_parser("sim", help="simulator window / simulatorvindue")
    sim.add_argument("--arena", "--bane", default="tom")
    sim.add_argument("--no-noise", action="store_true")
    sim.add_argument("--frames", type=int, default=None, help=argparse.SUPPRESS)
    sim.set_defaults(run=_sim)
    arenas = commands.add_parser("arenas", help="list arenas / vis baner")
    arenas.set_defaults(run=_arenas)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
