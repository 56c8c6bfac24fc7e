"""Notebook integration: a picture of the arena after each cell, and safety stops.

Registered once, on the first ``Robot()`` in an IPython kernel:
- after every cell, each world that changed is shown as a static PNG (arena,
  robots, trails), which also works in nbconvert, exported HTML and grading;
- a cell that ends with an error or an interrupt stops every robot.
Outside IPython nothing is registered.
"""

from __future__ import annotations

import weakref

_robots: "weakref.WeakSet" = weakref.WeakSet()
_shown: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_installed = False

PICTURE_WIDTH_PX = 480


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def track(robot) -> None:
    global _installed
    _robots.add(robot)
    shell = _ipython()
    if shell is None or _installed:
        return
    shell.events.register("post_run_cell", _after_cell)
    _installed = True


def _worlds():
    seen = []
    for robot in list(_robots):
        world = getattr(robot._backend, "world", None)
        if world is not None and all(world is not w for w in seen):
            seen.append(world)
    return seen


def _after_cell(result) -> None:
    if not result.success:
        for robot in list(_robots):
            robot._backend.emergency_stop()
        if isinstance(result.error_in_exec, KeyboardInterrupt) and \
                any(not robot._closed for robot in _robots):
            from .i18n import message
            print(message("stopped_by_interrupt"))
    from IPython.display import Image, display
    for world in _worlds():
        if _shown.get(world) != world.version:
            display(Image(data=_render(world)))


def _render(world) -> bytes:
    from simulator.render import render_png
    _shown[world] = world.version
    return render_png(world, PICTURE_WIDTH_PX)


def picture(robot) -> bytes | None:
    """PNG of the robot's world, or None for a robot without one (Bluetooth)."""
    world = getattr(robot._backend, "world", None)
    return _render(world) if world is not None else None


def show(robot):
    png = picture(robot)
    if png is not None and _ipython() is not None:
        from IPython.display import Image, display
        display(Image(data=png))
        return None
    return png
