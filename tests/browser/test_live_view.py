"""The live simulator view in a real browser, in JupyterLab and Notebook 7.

The robot's motion is checked from the canvas's own pixels: the robot is the
disc in its colour, its trail a line in the same colour behind it.
"""

import math
import time

import pytest

from .conftest import (
    cell_output_locator,
    cell_output_text,
    open_notebook,
    run_cell,
    save_screenshot,
    wait_for_kernel_idle,
    write_notebook,
)

UIS = ["lab", "notebook"]
ROBOT_RGB = (40, 90, 200)        # the first robot's colour (simulator.world.ROBOT_COLOURS)
ARENA_WIDTH_CM = 200.0           # the "tom" arena

# Pixels of one colour on a canvas. The robot's disc is where a column and a row
# hold more such pixels than a trail line is wide; its centre is their centroid.
# ``columns``: which columns have one within a band of rows. Runs in the page.
PIXELS_JS = """(canvas, [rgb, band]) => {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const hit = new Uint8Array(width * height);
  const perColumn = new Array(width).fill(0), perRow = new Array(height).fill(0);
  const columns = new Array(width).fill(false);
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      if (Math.abs(data[i] - rgb[0]) < 30 && Math.abs(data[i + 1] - rgb[1]) < 30 &&
          Math.abs(data[i + 2] - rgb[2]) < 30) {
        hit[y * width + x] = 1; count++; perColumn[x]++; perRow[y]++;
        if (band && y >= band[0] && y <= band[1]) columns[x] = true;
      }
    }
  }
  const thick = 8;
  let n = 0, sx = 0, sy = 0;
  for (let y = 0; y < height; y++) {
    if (perRow[y] <= thick) continue;
    for (let x = 0; x < width; x++) {
      if (hit[y * width + x] && perColumn[x] > thick) { n++; sx += x; sy += y; }
    }
  }
  return { count, disc: n, x: n ? sx / n : null, y: n ? sy / n : null, width, height, columns };
}"""


def printed(page, index: int) -> str:
    """What cell ``index`` printed (its stdout), without the view's labels."""
    stdout = cell_output_locator(page, index).locator(
        '[data-mime-type="application/vnd.jupyter.stdout"]')
    return stdout.first.text_content().strip()


def view_in(page, index: int):
    """The live view in the output of cell ``index``."""
    view = cell_output_locator(page, index).locator(".robotlab-view")
    view.first.wait_for(state="visible", timeout=30_000)
    return view.first


def pixels(view, band=None) -> dict:
    return view.locator("canvas.robotlab-arena").evaluate(PIXELS_JS, [list(ROBOT_RGB), band])


def wait_until(predicate, timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {value!r})")


def robot_disc(view) -> dict:
    """Where the robot is: the centroid of the robot-coloured pixels once it stands still."""
    def still():
        first = pixels(view)
        time.sleep(0.3)
        second = pixels(view)
        return second if second["disc"] and second["x"] == first["x"] and \
            second["y"] == first["y"] else None
    return wait_until(still, 20, "the robot to stand still on the canvas")


@pytest.mark.parametrize("ui", UIS)
def test_the_robot_moves_and_leaves_a_trail_and_stop_stops_it(page, jupyter_server, ui):
    name = write_notebook(jupyter_server, f"live-{ui}.ipynb", [
        "from robotlab import Robot\nrobot = Robot(noise=False)",
        "robot.forward(60)",
        "robot.turn_left(180)\nrobot.forward(500)\nprint(6 * 7 * 1000)",
        "print(round(robot.odometer(), 1))",
    ])
    open_notebook(page, jupyter_server, name, ui)

    # The view appears with the robot at the start; no trail yet.
    run_cell(page, 0)
    first = view_in(page, 0)
    start = robot_disc(first)
    scale = start["width"] / ARENA_WIDTH_CM            # canvas pixels per cm
    assert start["disc"] > 50

    # A cell that moves the robot shows the view below it; the robot moves 60 cm right.
    run_cell(page, 1)
    second = view_in(page, 1)
    end = robot_disc(second)
    assert (end["x"] - start["x"]) / scale == pytest.approx(60, abs=3)
    assert abs(end["y"] - start["y"]) < 2
    # The trail: robot-coloured pixels in the band of the path, between start and end,
    # beyond what the disc covers.
    band = [round(start["y"]) - 3, round(start["y"]) + 3]
    columns = pixels(second, band)["columns"]
    path = range(round(start["x"]), round(end["x"]))
    assert sum(columns[x] for x in path) >= 0.95 * len(path)
    # The first copy of the view follows the same robot (it draws once it is on screen).
    first.scroll_into_view_if_needed()
    assert robot_disc(first)["x"] == pytest.approx(end["x"], abs=1)
    second.scroll_into_view_if_needed()
    frames = int(second.get_attribute("data-frames"))
    assert frames >= 30
    save_screenshot(page, f"live-view-{ui}")

    # A long move, stopped with the view's Stop button while the cell runs.
    run_cell(page, 2, wait=False)
    third = view_in(page, 2)
    wait_until(lambda: pixels(third)["x"] is not None and
               pixels(third)["x"] < end["x"] - 10 * scale, 30, "the robot to drive back")
    third.locator("button.robotlab-stop").click()
    wait_for_kernel_idle(page, timeout=20)
    output = cell_output_text(page, 2)
    assert "Du trykkede på Stop" in output and "42000" not in output
    assert "robotlab/" not in output          # the pupil's line and the message, no internals
    stopped = robot_disc(third)
    time.sleep(1.0)
    assert pixels(third)["x"] == stopped["x"]       # it stays stopped
    assert third.get_attribute("data-state") == "stopped"
    save_screenshot(page, f"live-view-stopped-{ui}")

    run_cell(page, 3)
    driven = float(printed(page, 3))
    assert 70 < driven < 60 + 500
    assert (end["x"] - stopped["x"]) / scale == pytest.approx(driven - 60, abs=3)


def test_two_robots_share_one_view_in_their_colours_and_it_fits_a_chromebook(page, jupyter_server):
    name = write_notebook(jupyter_server, "two-robots.ipynb", [
        "from robotlab import Robot\nblue = Robot(noise=False)\nred = Robot(noise=False, world=blue)",
        "red.turn_right(90)\nred.forward(30)",     # away from blue (red stands on its right)
        "blue.beep(440, 0.3)",
    ])
    open_notebook(page, jupyter_server, name, "lab")
    red_rgb = [210, 60, 50]      # the second robot's colour

    def red_disc(view):
        return view.locator("canvas.robotlab-arena").evaluate(PIXELS_JS, [red_rgb, None])

    run_cell(page, 0)
    view = view_in(page, 0)
    assert cell_output_locator(page, 0).locator(".robotlab-view").count() == 1
    blue = robot_disc(view)
    red_before = wait_until(lambda: red_disc(view)["disc"] > 50 and red_disc(view), 20,
                            "the red robot to appear")
    scale = blue["width"] / ARENA_WIDTH_CM
    # The second robot stands beside the first, not on it.
    assert math.hypot(blue["x"] - red_before["x"], blue["y"] - red_before["y"]) / scale > 10
    # Both robots are in the sensor panel.
    assert view.locator(".robotlab-panel th.robotlab-name").all_text_contents() == \
        ["robot1", "robot2"]

    run_cell(page, 1)
    moved = view_in(page, 1)
    robot_disc(moved)
    red_after = red_disc(moved)
    assert (red_after["y"] - red_before["y"]) / scale == pytest.approx(30, abs=3)
    assert robot_disc(moved)["x"] == pytest.approx(blue["x"], abs=1)   # blue stayed
    # A 1366×768 Chromebook: the whole view is on screen at once, nothing spills sideways.
    box = moved.bounding_box()
    assert box["height"] < 768 - 150 and box["width"] <= 1366
    assert moved.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    save_screenshot(page, "live-view-two-robots")

    # A beep is played by the page (Web Audio); the view counts the tones it started.
    run_cell(page, 2)
    beeper = view_in(page, 2)
    wait_until(lambda: int(beeper.get_attribute("data-beeps") or 0) >= 1, 10, "the beep")
