"""The hypothesis card (exp.form()) filled in by a pupil in a real browser, in JupyterLab and
Notebook 7: the file it writes holds the same events as the same steps typed with the API.

Widget changes and clicks travel browser -> kernel while no cell runs; each step waits for the
card to answer (a button turning on, a value in the list) before the next, as a pupil would.
"""

import json

import pytest

from .conftest import (
    cell_output_locator,
    fail_with_screenshot,
    open_notebook,
    run_cell,
    save_screenshot,
    write_notebook,
)

UIS = ["lab", "notebook"]
QUESTION = "Hvor langt kører robotten på 2 sekunder?"
EVENTS = ("print(json.dumps([{k: v for k, v in e.items() if k != 'time'} "
          "for e in robotlab.experiment.Logbook.read({path})], ensure_ascii=False))")
CELLS = [
    f"from robotlab import Experiment\nexp = Experiment({QUESTION!r})\nexp.form()",
    "import json, robotlab.experiment\n" + EVENTS.replace("{path}", "exp.path"),
    f"api = Experiment({QUESTION!r}, folder='api')\n"
    "api.hypothesis('Den kører 30 cm', prediction=30, measurement='afstand')\n"
    "api.trial()\n"
    "api.record(afstand=28)\n"
    "api.record(afstand=29.5)\n"
    "api.conclude('Den kørte kortere', supported=False)\n"
    + EVENTS.replace("{path}", "api.path"),
]


def printed_events(page, index: int) -> list[dict]:
    """The events cell ``index`` printed as JSON on its last line of output."""
    stdout = cell_output_locator(page, index).locator(
        '[data-mime-type="application/vnd.jupyter.stdout"]')
    text = "\n".join(stdout.all_text_contents()).strip()
    try:
        return json.loads(text.splitlines()[-1])
    except (IndexError, ValueError):
        fail_with_screenshot(page, f"cell {index} printed no events: {text!r}")


@pytest.mark.parametrize("ui", UIS)
def test_a_pupil_fills_the_card_and_the_file_is_what_the_api_writes(page, jupyter_server, ui):
    name = write_notebook(jupyter_server, f"hypotesekort-{ui}.ipynb", CELLS)
    open_notebook(page, jupyter_server, name, ui)
    run_cell(page, 0)
    card = cell_output_locator(page, 0).locator(".robotlab-card")
    card.wait_for(state="visible", timeout=30_000)
    part = lambda css: card.locator(f".robotlab-card-{css}")  # noqa: E731
    assert QUESTION in part("question").text_content()
    assert "Cyklus 1" in part("title").text_content()
    assert part("add").is_disabled() and part("value").locator("input").is_disabled()

    # The hypothesis. A click waits until the button is on, i.e. the kernel has answered.
    part("hypothesis").locator("textarea").fill("Den kører 30 cm")
    part("prediction").locator("input").fill("30")
    part("measurement-name").locator("input").fill("afstand")
    part("save-hypothesis").click()
    value = part("value").locator("input")
    value.wait_for(state="visible")
    page.wait_for_function("el => !el.disabled", arg=value.element_handle(), timeout=15_000)
    assert part("save-hypothesis").is_disabled()

    # Two measurements, each waited for in the list before the next.
    for typed, shown in (("28", "28"), ("29.5", "29.5")):
        value.fill(typed)
        part("add").click()
        part("values").locator("td", has_text=shown).first.wait_for(timeout=15_000)
    assert part("values").locator("tr").count() == 3            # a header and two rows

    # The conclusion: not supported.
    part("conclusion").locator("textarea").fill("Den kørte kortere")
    part("supported").locator("button", has_text="Nej").click()
    part("save-conclusion").click()                              # on once "Nej" reached the kernel
    new_cycle = part("new-cycle")
    page.wait_for_function("el => !el.disabled", arg=new_cycle.element_handle(), timeout=15_000)
    assert part("message").text_content().strip() == ""
    assert part("save-conclusion").is_disabled()
    card.scroll_into_view_if_needed()
    save_screenshot(page, f"hypothesis-card-{ui}")

    run_cell(page, 1)
    from_card = printed_events(page, 1)
    run_cell(page, 2)
    from_api = printed_events(page, 2)
    assert [e["event"] for e in from_card] == \
        ["experiment", "hypothesis", "trial", "record", "record", "conclusion"]
    assert from_card[0]["notebook"] == f"hypotesekort-{ui}"
    assert from_card == from_api
    assert [e["measurements"] for e in from_card if e["event"] == "record"] == \
        [{"afstand": 28}, {"afstand": 29.5}]


def test_a_mistake_is_shown_in_the_card_and_nothing_is_lost(page, jupyter_server):
    name = write_notebook(jupyter_server, "hypotesekort-fejl.ipynb", CELLS[:2])
    open_notebook(page, jupyter_server, name, "lab")
    run_cell(page, 0)
    card = cell_output_locator(page, 0).locator(".robotlab-card")
    card.wait_for(state="visible", timeout=30_000)
    part = lambda css: card.locator(f".robotlab-card-{css}")  # noqa: E731

    part("save-hypothesis").click()                              # nothing written yet
    error = part("message").locator(".robotlab-card-error")
    error.wait_for(timeout=15_000)
    assert "Skriv din hypotese i feltet" in error.text_content()
    part("hypothesis").locator("textarea").fill("Den kører 30 cm")
    part("measurement-name").locator("input").fill("afstand")
    part("save-hypothesis").click()
    error.wait_for(state="detached", timeout=15_000)             # a good step clears it

    part("supported").locator("button", has_text="Ja").click()
    part("conclusion").locator("textarea").fill("Den kørte 30 cm")
    part("save-conclusion").click()                              # before any measurement
    error.wait_for(timeout=15_000)
    assert "Tilføj først en måling" in error.text_content()
    assert part("conclusion").locator("textarea").input_value() == "Den kørte 30 cm"
    error.scroll_into_view_if_needed()
    save_screenshot(page, "hypothesis-card-error-lab")

    run_cell(page, 1)
    events = printed_events(page, 1)
    assert [e["event"] for e in events] == ["experiment", "hypothesis"]
    assert events[1]["text"] == "Den kører 30 cm" and events[1]["measurement"] == "afstand"
