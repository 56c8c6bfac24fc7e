"""The ``robotlab`` command.

    robotlab sim [--arena NAME]    the simulator in a desktop window (pedagogues)
    robotlab arenas                the built-in arenas
    robotlab emulate [--count N]   virtual Bluetooth robots on an in-process radio
    robotlab course ...            teachers: course folder, pupils, lessons, class report
                                   (on top of nbgrader's own commands; see grading.course)
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from . import loading
from .errors import RobotLabError
from .i18n import language, message


def _arena_or_exit(name: str, command: str = "sim"):
    try:
        return loading.arena(name, call=f"robotlab {command}", param="--arena")
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


def _emulate(args) -> int:
    try:
        from ble_bridge.virtual import VirtualRadio
    except ImportError:            # bumble comes with the "emulate" extra
        sys.exit(message("emulate_needs_bumble"))

    from .emulate import start_virtual_robots, stop_virtual_robots
    arena = _arena_or_exit(args.arena, "emulate")
    with VirtualRadio() as radio:
        robots = start_virtual_robots(radio, args.count, arena=arena, noise=not args.no_noise)
        try:
            print(message("emulate_running", count=len(robots),
                          names=", ".join(robot.name for robot in robots)), flush=True)
            end = math.inf if args.seconds is None else time.monotonic() + args.seconds
            while (left_s := end - time.monotonic()) > 0:
                time.sleep(min(left_s, 1.0))
        except KeyboardInterrupt:
            pass
        finally:
            stop_virtual_robots(robots)
    return 0


def _course(args) -> int:
    from grading.course import command      # nbgrader is only imported for teachers' commands
    return command(args)


def _add_course_commands(commands) -> None:
    course = commands.add_parser(
        "course", help="teachers: course, pupils, lessons, report / lærere: kursus, elever, lektioner",
        description="Teacher commands on top of nbgrader: make a course folder, add pupils "
                    "and lessons to its gradebook, and write a class report. Use nbgrader's "
                    "own commands (generate_assignment, release_assignment, collect, "
                    "autograde, generate_feedback) in the course folder as usual.")
    actions = course.add_subparsers(dest="action", required=True)
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--course", "--kursus", default=".",
                       help="the course folder / kursusmappen (default: .)")
    init = actions.add_parser("init", help="make a course folder / lav en kursusmappe")
    init.add_argument("name", metavar="NAME")
    init.add_argument("--folder", "--mappe", default=None, help="default: ./NAME")
    init.add_argument("--exchange", default=None, help="nbgrader exchange root "
                                                      "(default: NAME/exchange)")
    init.add_argument("--time-limit", "--tidsgraense", type=float, default=None,
                      metavar="S", help="seconds per cell while autograding / sekunder pr. celle")
    pupils = actions.add_parser("add-pupils", parents=[where],
                                help="add pupils from a CSV file / tilføj elever fra CSV")
    pupils.add_argument("roster", metavar="ROSTER.csv")
    lesson = actions.add_parser("add-lesson", parents=[where],
                                help="add an nbgrader source notebook / tilføj en lektion")
    lesson.add_argument("lesson", metavar="NOTEBOOK_FOLDER_OR_NUMBER",
                        help="a source notebook, a lesson folder, or RobotLab's lesson number "
                             "/ en notesbog, en mappe eller RobotLabs lektionsnummer (1-8)")
    lesson.add_argument("--name", "--navn", default=None)
    lesson.add_argument("--language", "--sprog", default=None,
                        help="the language of a two-language lesson / sproget (default: "
                             "ROBOTLAB_LANG or da)")
    report = actions.add_parser("report", parents=[where],
                                help="class report (CSV + HTML) / klasserapport")
    report.add_argument("--out", "--ud", default=None, help="default: COURSE/rapport")
    course.set_defaults(run=_course)


def _lessons(args) -> int:
    from grading.lessons import command     # nbgrader is only imported for teachers' commands
    return command(args)


def _add_lesson_commands(commands) -> None:
    lessons = commands.add_parser("lessons", help="RobotLab's lessons / RobotLabs lektioner")
    actions = lessons.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="release versions in Danish and English "
                                             "/ elevudgaver på dansk og engelsk")
    build.add_argument("--out", "--ud", default="lektioner-udgivet",
                       help="folder for the release versions (default: lektioner-udgivet)")
    build.add_argument("--lessons", "--lektioner", default=None,
                       help="a folder of lessons with its curriculum.toml (default: RobotLab's own)")
    lessons.set_defaults(run=_lessons)


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
    emulate = commands.add_parser(
        "emulate", help="virtual Bluetooth robots / virtuelle Bluetooth-robotter",
        description="Virtual RobotLab robots (RobotLab-07, -08, ...) that speak the RobotLab "
                    "protocol and move in the simulator, until Ctrl+C. They live on an "
                    "in-process virtual radio: only code in this same process reaches them, "
                    'with Robot("ble") (tests, demos). Emulation for other processes would '
                    "need a real Bluetooth controller and is not part of this command.")
    emulate.add_argument("--count", "--antal", type=int, default=1,
                         help="how many robots / hvor mange robotter")
    emulate.add_argument("--arena", "--bane", default="tom")
    emulate.add_argument("--no-noise", action="store_true")
    emulate.add_argument("--seconds", type=float, default=None, help=argparse.SUPPRESS)
    emulate.set_defaults(run=_emulate)
    _add_course_commands(commands)
    _add_lesson_commands(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
