"""Notebook integration: the live view, a picture after each cell, and safety stops.

Registered once, on the first ``Robot()`` in an IPython kernel:
- each simulated world gets a live view (``robotlab.view``) in the cell that
  made its first robot; its display also carries a PNG, renewed after each
  cell, for nbconvert, exported HTML and grading. With ``ROBOTLAB_VIEW=picture``
  (or without a widget-capable kernel) each world that changed is shown as a
  PNG after every cell instead;
- a listener thread (``robotlab.control``) lets the view's Stop and pause
  buttons act while a cell runs;
- a cell that ends with an error or an interrupt stops every robot.
Outside IPython nothing is registered.
"""

from __future__ import annotations

import weakref

from . import settings

_robots: "weakref.WeakSet" = weakref.WeakSet()
_shown: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_installed = False
_executing = False
_listener = None
_timer = None
_timed_out = False          # some cell in this kernel ran out of time
_cell_timed_out = False     # the running cell did

PICTURE_WIDTH_PX = 480


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def show_errors_briefly() -> None:
    """In IPython, show RobotLab's errors without RobotLab's frames (once; cheap).

    Called on ``import robotlab`` too, so that even the first ``Robot()`` gets
    it; uses IPython only if it is loaded already.
    """
    import sys
    if "IPython" not in sys.modules:
        return
    shell = sys.modules["IPython"].get_ipython()
    if shell is None or getattr(shell, "_robotlab_errors", False):
        return
    from .errors import RobotLabError
    shell.set_custom_exc((RobotLabError,), _show_robot_error)
    shell._robotlab_errors = True
    if settings.time_limit() is not None:       # autograding: every cell gets a time limit
        _install_hooks(shell)
        # robotlab is being imported by a running cell (its pre_run_cell has passed):
        # that cell gets the limit too; post_run_cell, registered now, ends it.
        _before_cell()


def _install_hooks(shell) -> None:
    global _installed
    if not _installed:
        shell.events.register("pre_run_cell", _before_cell)
        shell.events.register("post_run_cell", _after_cell)
        _installed = True


def timed_out() -> bool:
    """Whether a cell in this kernel was stopped by ``ROBOTLAB_TIME_LIMIT``."""
    return _timed_out


def _time_up() -> None:
    """The cell ran past the time limit: interrupt it as the kernel's stop button does."""
    global _timed_out, _cell_timed_out
    if _executing:
        _timed_out = _cell_timed_out = True
        import os
        import signal
        os.kill(os.getpid(), signal.SIGINT)


def _show_robot_error(shell, etype, value, tb, tb_offset=None):
    """Show a RobotLab error as the pupil's line and the message, without our frames.

    IPython hides frames marked ``__tracebackhide__`` except the last one, and
    the last one is where RobotLab raised; so cut the traceback where it enters
    RobotLab instead.
    """
    tb = _without_robotlab_frames(tb)
    value.__traceback__ = tb
    return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def _without_robotlab_frames(tb):
    import os
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    keep = tb
    while keep is not None and keep.tb_next is not None:
        if os.path.abspath(keep.tb_next.tb_frame.f_code.co_filename).startswith(package):
            keep.tb_next = None
            break
        keep = keep.tb_next
    return tb


def executing() -> bool:
    """Whether a cell is running now (seen from any thread)."""
    return _executing


def track(robot) -> None:
    global _installed
    _robots.add(robot)
    shell = _ipython()
    if shell is None:
        return
    _install_hooks(shell)
    show_errors_briefly()
    controls = getattr(robot._backend, "controls", None)
    if controls is not None and getattr(shell, "kernel", None) is not None and \
            settings.view() == "live":
        _live_view(controls)


def _live_view(controls) -> None:
    """Show the world's live view, or tell it that a robot joined."""
    if controls.view is not None:
        controls.view.robots_changed()
        return
    try:
        from .view import LiveView
    except ImportError:     # no anywidget: pictures after each cell instead
        return
    kernel_id = _start_listener()
    controls.view = LiveView(controls, kernel_id=kernel_id)
    controls.view.display()


def _start_listener() -> str:
    """Start the kernel's control listener once; returns the kernel id ("" if unknown)."""
    global _listener
    from . import control
    try:
        from ipykernel.connect import get_connection_file
        connection_file = get_connection_file()
    except (ImportError, RuntimeError, AttributeError):
        return ""
    if _listener is None:
        try:
            _listener = control.ControlListener(control.socket_path(connection_file), _control)
        except OSError:
            return ""
        import atexit
        atexit.register(_listener.close)      # leave no socket behind in the runtime folder
    return control.kernel_id_of(connection_file)


def _control(request: dict) -> dict:
    """A request from the server extension (listener thread)."""
    from . import view
    if request["action"] == "hello":
        view.frontend_seen.set()
        return {"views": [v.id for v in view.all_views()]}
    target = view.view_by_id(request.get("view", ""))
    targets = [target] if target is not None else view.all_views()
    replies = [v.act(request["action"], request.get("value")) for v in targets]
    return replies[0] if len(replies) == 1 else {"views": replies}


def _before_cell(info=None) -> None:
    """A new cell: forget Stop and pause from the last one."""
    global _executing, _cell_timed_out
    _cell_timed_out = False
    import sys
    view = sys.modules.get("robotlab.view")   # loaded only once a live view exists
    for live in view.all_views() if view is not None else ():
        live.cell_started()
    _executing = True
    limit = settings.time_limit()
    if limit is not None:
        global _timer
        import threading
        _timer = threading.Timer(limit, _time_up)
        _timer.daemon = True
        _timer.start()


def _worlds():
    seen = []
    for robot in list(_robots):
        world = getattr(robot._backend, "world", None)
        if world is not None and all(world is not w for w in seen):
            seen.append(world)
    return seen


def _after_cell(result) -> None:
    global _executing, _timer
    _executing = False
    if _timer is not None:
        _timer.cancel()
        _timer = None
    if not result.success:
        for robot in list(_robots):
            robot._backend.emergency_stop()
        if isinstance(result.error_in_exec, KeyboardInterrupt):
            from .i18n import message
            if _cell_timed_out:
                print(message("time_limit_reached", seconds=f"{settings.time_limit():g}"))
            elif any(not robot._closed for robot in _robots):
                print(message("stopped_by_interrupt"))
    from IPython.display import Image, display
    for world in _worlds():
        live = getattr(getattr(world, "_robotlab_controls", None), "view", None)
        if live is not None:
            live.flush()            # the last frames go out before the cell ends
            live.refresh_picture()
        elif _shown.get(world) != world.version:
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
    controls = getattr(robot._backend, "controls", None)
    if controls is not None and controls.view is not None and _ipython() is not None:
        controls.view.display()
        return None
    png = picture(robot)
    if png is not None and _ipython() is not None:
        from IPython.display import Image, display
        display(Image(data=png))
        return None
    return png
