"""The browser harness itself: real notebooks run in JupyterLab and in Notebook 7."""

import time

import pytest

from .conftest import (
    cell_output_locator,
    cell_output_text,
    notebook_state,
    open_notebook,
    run_cell,
    save_screenshot,
    wait_for_kernel_idle,
    wait_for_state,
    write_notebook,
)

UIS = ["lab", "notebook"]


@pytest.mark.parametrize("ui", UIS)
def test_a_notebook_runs_and_shows_its_output(page, jupyter_server, ui):
    name = write_notebook(jupyter_server, f"smoke-{ui}.ipynb", [
        "x = 6 * 7",
        "print(x)",
        "import os; print(os.environ['ROBOTLAB_PACE'], os.environ['ROBOTLAB_LANG'])",
    ])
    open_notebook(page, jupyter_server, name, ui)
    run_cell(page, 0)
    run_cell(page, 1)
    assert cell_output_text(page, 1) == "42"
    assert cell_output_text(page, 0) == ""
    save_screenshot(page, f"harness-smoke-{ui}")
    run_cell(page, 2)  # the kernel runs with the browser tests' settings
    assert cell_output_text(page, 2) == "1 da"
    assert notebook_state(page)["prompts"] == ["[1]:", "[2]:", "[3]:"]


@pytest.mark.parametrize("ui", UIS)
def test_wait_for_kernel_idle_waits_for_a_running_cell(page, jupyter_server, ui):
    name = write_notebook(jupyter_server, f"busy-{ui}.ipynb",
                          ["import time; time.sleep(2); print('done')"])
    open_notebook(page, jupyter_server, name, ui)
    started = time.monotonic()
    run_cell(page, 0, wait=False)
    state = wait_for_state(page, lambda s: s["status"] == "busy", 5, "the kernel to show busy")
    assert state["running"] == [0] and state["prompts"] == ["[*]:"], state
    assert cell_output_text(page, 0) == ""
    wait_for_kernel_idle(page, timeout=30)
    # The cell sleeps 2 s, and it started after `started`.
    assert time.monotonic() - started >= 2.0
    state = notebook_state(page)
    assert state["status"] == "idle" and state["running"] == [] and state["prompts"] == ["[1]:"]
    assert cell_output_text(page, 0) == "done"


# A custom widget like the live robot view: a canvas and a button, on anywidget.
PROBE_WIDGET = '''
import anywidget, traitlets

class Probe(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
        const canvas = document.createElement("canvas");
        canvas.width = 40; canvas.height = 30; canvas.className = "probe-canvas";
        const context = canvas.getContext("2d");
        context.fillStyle = "rgb(255, 0, 0)"; context.fillRect(0, 0, 40, 30);
        const button = document.createElement("button");
        button.className = "probe-button"; button.textContent = "Klik";
        button.addEventListener("click", () => {
            model.set("clicks", model.get("clicks") + 1); model.save_changes();
        });
        el.append(canvas, button);
    }
    export default { render };
    """
    clicks = traitlets.Int(0).tag(sync=True)

probe = Probe()
probe
'''


@pytest.mark.parametrize("ui", UIS)
def test_widget_outputs_render_and_their_buttons_reach_the_kernel(page, jupyter_server, ui):
    name = write_notebook(jupyter_server, f"widget-{ui}.ipynb",
                          [PROBE_WIDGET, "print(probe.clicks)"])
    open_notebook(page, jupyter_server, name, ui)
    run_cell(page, 0)
    output = cell_output_locator(page, 0)
    output.locator("button.probe-button").click()
    output.locator("button.probe-button").click()
    pixel = output.locator("canvas.probe-canvas").evaluate(
        "canvas => Array.from(canvas.getContext('2d').getImageData(5, 5, 1, 1).data)")
    assert pixel == [255, 0, 0, 255]
    wait_for_kernel_idle(page)
    run_cell(page, 1)
    assert cell_output_text(page, 1) == "2"
