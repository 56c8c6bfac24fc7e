"""Checks for nbgrader's hidden test cells: judge what the pupil's robot did.

The pupil's cells run first, in the simulator, with a fixed seed and a time
limit (``grading.course`` sets ``ROBOTLAB_SEED``, ``ROBOTLAB_PACE=max`` and
``ROBOTLAB_TIME_LIMIT`` for autograding). A hidden test cell then judges the
robot's trace::

    from grading.checks import reached_goal, never_collided
    reached_goal(robot)
    never_collided(robot)

Each check returns quietly when the robot did it, and otherwise shows a
picture of the path (for the feedback) and raises ``AssertionError`` with a
short message in the pupil's language that says what went wrong and what to
try. Units: cm, degrees, percent.
"""

from __future__ import annotations

import math

from robotlab.i18n import message

__all__ = ["reached_goal", "drove_square", "followed_line", "stopped_before_wall",
           "never_collided", "light_on", "beeped", "experiment_cycles", "predicted_before_testing",
           "conclusions_match_data"]


class CheckFailed(AssertionError):
    """A check the robot or experiment did not pass; the message says what to try."""


def _fail(key: str, robot=None, **params):
    if robot is not None:
        show_path(robot)
    raise CheckFailed(message(key, **params)) from None


def _body_and_world(robot):
    """The simulated body and world behind a pupil's ``Robot``."""
    backend = getattr(robot, "_backend", None)
    world = getattr(backend, "world", None)
    if world is None:
        raise CheckFailed(message("check_no_robot", got=type(robot).__name__))
    return backend.body, world


def show_path(robot) -> None:
    """Show the arena with the robot's path (in the notebook: the feedback's picture)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        return
    if get_ipython() is None:
        return
    from simulator.render import render_png
    _, world = _body_and_world(robot)
    display(Image(data=render_png(world, 480)))


def _path(body) -> list[tuple[float, float]]:
    points = list(body.trail)
    if not points or points[-1] != (body.x, body.y):
        points.append((body.x, body.y))
    return points


def _length(points) -> float:
    return sum(math.dist(a, b) for a, b in zip(points, points[1:]))


def _timed_out_hint() -> str:
    from robotlab import notebook
    return " " + message("check_timed_out_hint") if notebook.timed_out() else ""


# -- robot behaviour ------------------------------------------------------------------

def reached_goal(robot, goal: str | None = None) -> None:
    """The robot's path entered the arena's goal zone (the one named ``goal``, or any).

    Example: ``reached_goal(robot)``.
    """
    body, world = _body_and_world(robot)
    zones = [z for z in world.arena.goals if goal is None or z.name == goal]
    if not zones:
        raise CheckFailed(message("check_no_goal_zone", arena=world.arena.name))
    points = _path(body)
    # Sample between trail points too, so a fast pass through a small zone counts.
    for (x1, y1), (x2, y2) in zip(points, points[1:] or points):
        steps = max(1, int(math.dist((x1, y1), (x2, y2)) // 1.0))
        for k in range(steps + 1):
            x, y = x1 + (x2 - x1) * k / steps, y1 + (y2 - y1) * k / steps
            if any(z.contains(x, y) for z in zones):
                return
    zone = zones[0]
    gap = math.dist((body.x, body.y), (zone.x_cm + zone.width_cm / 2, zone.y_cm + zone.height_cm / 2))
    _fail("check_goal_not_reached", robot, gap=round(gap), hint=_timed_out_hint())


def drove_square(robot, side_cm: float, tolerance_cm: float = 5.0) -> None:
    """The path is a closed square with sides of ``side_cm`` (within ``tolerance_cm``).

    Example: ``drove_square(robot, 30)``.
    """
    body, _ = _body_and_world(robot)
    points = _path(body)
    length = _length(points)
    start, end = points[0], points[-1]
    if length < 2 * side_cm:
        _fail("check_square_too_short", robot, driven=round(length), expected=round(4 * side_cm),
              hint=_timed_out_hint())
    if math.dist(start, end) > tolerance_cm:
        _fail("check_square_not_closed", robot, gap=round(math.dist(start, end)))
    if abs(length - 4 * side_cm) > 4 * tolerance_cm:
        _fail("check_square_wrong_length", robot, driven=round(length),
              expected=round(4 * side_cm))
    # The corner farthest from the start is a diagonal away, in any orientation.
    far = max(math.dist(start, p) for p in points)
    if abs(far - side_cm * math.sqrt(2)) > 1.5 * tolerance_cm:
        _fail("check_square_wrong_shape", robot)


def followed_line(robot, percent: float = 80.0, track_cm: float | None = None,
                  near_cm: float = 3.0) -> None:
    """The robot stayed on the dark line for ``percent`` % of its path (and drove
    ``percent`` % of ``track_cm`` along it, when the track length is given).

    Example: ``followed_line(robot, 80, track_cm=400)``.
    """
    body, world = _body_and_world(robot)
    arena = world.arena
    threshold = body.profile.line_threshold_percent
    points = _path(body)

    def on_line(x: float, y: float) -> bool:
        for dx, dy in ((0, 0), (near_cm, 0), (-near_cm, 0), (0, near_cm), (0, -near_cm)):
            if arena.reflection_at(x + dx, y + dy) < threshold:
                return True
        return False

    total = on = 0.0
    for a, b in zip(points, points[1:]):
        step = math.dist(a, b)
        total += step
        if on_line((a[0] + b[0]) / 2, (a[1] + b[1]) / 2):
            on += step
    if total < 1.0:
        _fail("check_line_not_moved", robot, hint=_timed_out_hint())
    share = 100.0 * on / total
    if share < percent:
        _fail("check_line_left", robot, share=round(share), percent=round(percent))
    if track_cm is not None and on < percent / 100.0 * track_cm:
        _fail("check_line_too_short", robot, driven=round(on), needed=round(percent / 100 * track_cm),
              hint=_timed_out_hint())


def stopped_before_wall(robot, max_gap_cm: float = 10.0) -> None:
    """The robot stands still, facing a wall at most ``max_gap_cm`` away, without touching it.

    Example: ``stopped_before_wall(robot, 10)``.
    """
    from simulator import sensors
    body, world = _body_and_world(robot)
    if body.moving:
        _fail("check_still_moving", robot)
    if body.collisions:
        _fail("check_hit_wall", robot, count=body.collisions)
    gap = sensors.distance_cm(world, body, noisy=False)
    if gap > max_gap_cm:
        _fail("check_stopped_too_far", robot, gap=round(gap), max_gap=round(max_gap_cm),
              hint=_timed_out_hint())


def never_collided(robot) -> None:
    """The robot never hit a wall or another robot.

    Example: ``never_collided(robot)``.
    """
    body, _ = _body_and_world(robot)
    if body.collisions:
        _fail("check_collided", robot, count=body.collisions)


def light_on(robot) -> None:
    """The robot's light is on now (any colour but off).

    Example: ``light_on(robot)`` after ``robot.lys("grøn")``.
    """
    body, _ = _body_and_world(robot)
    if tuple(body.led_rgb) == (0, 0, 0):
        _fail("check_light_off")


def beeped(robot, times: int = 1) -> None:
    """The robot played at least ``times`` tones since it was made.

    Example: ``beeped(robot)`` after ``robot.bip(440, 0.5)``.
    """
    body, _ = _body_and_world(robot)
    if len(body.beeps) < times:
        _fail("check_too_few_beeps", count=len(body.beeps), times=times)


# -- experiments ------------------------------------------------------------------------

def _experiment(exp):
    from robotlab.experiment import Experiment
    if not isinstance(exp, Experiment):
        raise CheckFailed(message("check_no_experiment", got=type(exp).__name__))
    return exp


def experiment_cycles(exp, n: int = 2) -> None:
    """At least ``n`` cycles, each with measurements and a conclusion.

    Example: ``experiment_cycles(eks, 2)``.
    """
    exp = _experiment(exp)
    done = [c for c in exp.cycles if c.rows and c.conclusion is not None]
    if len(done) < n:
        _fail("check_too_few_cycles", done=len(done), needed=n)


def predicted_before_testing(exp) -> None:
    """Every cycle's hypothesis has a prediction, made before its first measurement.

    Example: ``predicted_before_testing(eks)``.
    """
    exp = _experiment(exp)
    if not exp.cycles:
        _fail("check_too_few_cycles", done=0, needed=1)
    for cycle in exp.cycles:
        if cycle.prediction is None:
            _fail("check_no_prediction", cycle=cycle.number)


def conclusions_match_data(exp, tolerance_percent: float = 10.0) -> None:
    """Each conclusion says "supported" exactly when the measured mean is within
    ``tolerance_percent`` of the prediction.

    Example: ``conclusions_match_data(eks, 10)``.
    """
    exp = _experiment(exp)
    for cycle in exp.cycles:
        if cycle.conclusion is None:
            continue
        pairs = [(row["measurements"].get(cycle.measured), row["predicted"]) for row in cycle.rows]
        pairs = [(m, p) for m, p in pairs if isinstance(m, (int, float)) and
                 isinstance(p, (int, float))]
        if not pairs:
            continue
        measured = sum(m for m, _ in pairs) / len(pairs)
        predicted = sum(p for _, p in pairs) / len(pairs)
        close = abs(measured - predicted) <= abs(predicted) * tolerance_percent / 100.0
        if close != cycle.supported:
            _fail("check_conclusion_contradicts", cycle=cycle.number,
                  measured=f"{measured:.1f}", predicted=f"{predicted:.1f}",
                  said=message("exp_html_supported" if cycle.supported else
                               "exp_html_not_supported"))


# -- sorting exercises ------------------------------------------------------------------

def classified_like(answers, key: dict) -> None:
    """Every item of ``key`` has the pupil's answer (True or False), and each is right.

    ``answers`` is the pupil's table of item -> True/False (None: not answered
    yet). The first missing or wrong item is named, so the pupil can look again.

    Example: ``classified_like(er_persondata, {"dit navn": True, "robottens fart": False})``.
    """
    if not isinstance(answers, dict):
        _fail("check_classify_not_a_table", got=_describe(answers))
    for item in key:
        if not isinstance(answers.get(item), bool):
            _fail("check_classify_unanswered", item=item)
    wrong = [item for item, right in key.items() if answers[item] is not right]
    if wrong:
        _fail("check_classify_wrong", right=len(key) - len(wrong), total=len(key), item=wrong[0])


def _describe(value):
    from robotlab.checks import describe
    return describe(value)


__all__ += ["classified_like"]
