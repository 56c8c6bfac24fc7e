"""Experiment graphs: a panel per cycle, mean and smallest–largest per condition, prediction."""

import json
import struct
import subprocess
import sys

import pytest

from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from robotlab import Experiment, Robot  # noqa: E402
from robotlab.experiment_plot import plot  # noqa: E402
from robotlab.i18n import message  # noqa: E402

SPEEDS = (20, 50, 80)
# Three repeats per speed: distance = speed / 2 plus a spread that differs per speed.
REPEATS = {20: (9.0, 10.0, 12.5), 50: (24.0, 25.5, 26.0), 80: (38.0, 40.0, 41.0)}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def speed_experiment(folder, prediction, text="Jo hurtigere, jo længere"):
    exp = Experiment("Hvor langt kører robotten?", folder=folder)
    exp.hypothesis(text, prediction=prediction)
    for speed in SPEEDS:
        exp.trial(speed=speed)
        for distance in REPEATS[speed]:
            exp.record(distance=distance)
    return exp


def errorbars(ax) -> list[ErrorbarContainer]:
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def bar_spans(container) -> list[float]:
    """x, lowest y, highest y of each error bar, one after the other."""
    (bars,) = container.lines[2]
    spans = []
    for (x0, y0), (x1, y1) in bars.get_segments():
        assert x0 == x1                    # upright
        spans += [x0, min(y0, y1), max(y0, y1)]
    return spans


def prediction_lines(ax):
    return [line for line in ax.get_lines() if message("plot_predicted") in line.get_label()]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_one_condition_gives_mean_and_smallest_to_largest_per_value(folder):
    table = {20: 10, 80: 40, 50: 25, "langsomt": 3}   # unsorted, and a key that is no number
    exp = speed_experiment(folder, table)
    fig = plot([exp])
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    (container,) = errorbars(ax)
    means_line = container.lines[0]
    assert list(means_line.get_xdata()) == [20, 50, 80]
    assert list(means_line.get_ydata()) == pytest.approx(
        [sum(REPEATS[s]) / 3 for s in SPEEDS])
    assert bar_spans(container) == pytest.approx(
        [v for s in SPEEDS for v in (s, min(REPEATS[s]), max(REPEATS[s]))])
    assert container.get_label() == message("plot_measured")

    # The repeats themselves: nine faint dots beside the bars.
    dots = [line for line in ax.get_lines() if line.get_label().startswith("_")
            and len(line.get_xdata()) == 9]
    assert len(dots) == 1 and dots[0].get_alpha() < 0.6
    assert sorted(dots[0].get_ydata()) == sorted(v for s in SPEEDS for v in REPEATS[s])

    # The table prediction: a dashed line through its number points, sorted by key.
    (line,) = prediction_lines(ax)
    assert line.get_linestyle() == "--"
    assert list(line.get_xdata()) == [20, 50, 80]
    assert list(line.get_ydata()) == [10, 25, 40]
    assert line.get_marker() not in (None, "None", "", " ")

    assert ax.get_title() == "Cyklus 1: Jo hurtigere, jo længere"
    assert ax.get_xlabel() == "speed" and ax.get_ylabel() == "distance"
    assert message("plot_measured") in legend_texts(ax)
    assert message("plot_predicted") in legend_texts(ax)


def test_number_prediction_is_a_flat_dashed_line_and_english_labels(folder, monkeypatch):
    monkeypatch.setenv("ROBOTLAB_LANG", "en")
    exp = Experiment("How far?", folder=folder)
    exp.hypothesis("It drives 30 cm", prediction=30)
    for distance in (28, 31, 29.5):       # no conditions: one trial per record
        exp.trial()
        exp.record(distance=distance)
    ax = plot([exp]).axes[0]
    (line,) = prediction_lines(ax)
    assert line.get_linestyle() == "--"
    assert list(line.get_ydata()) == [30, 30]
    assert list(line.get_xdata()) == [0, 1]          # axhline: across the whole axes
    assert ax.get_title() == "Cycle 1: It drives 30 cm"
    assert ax.get_xlabel() == "trial no." and ax.get_ylabel() == "distance"
    (container,) = errorbars(ax)
    assert list(container.lines[0].get_xdata()) == [1, 2, 3]
    assert set(legend_texts(ax)) == {"predicted", "measured (mean, smallest–largest)"}


def test_two_conditions_or_text_conditions_fall_back_to_trial_numbers(folder):
    exp = Experiment("Hvor langt?", folder=folder)
    exp.hypothesis("Den kører 30 cm", prediction=30)
    exp.trial(speed=20, surface="træ")
    exp.record(distance=12)
    exp.trial(speed=50, surface="tæppe")
    exp.record(distance=20)
    ax = plot([exp]).axes[0]
    assert ax.get_xlabel() == message("plot_trial")
    assert list(errorbars(ax)[0].lines[0].get_xdata()) == [1, 2]


def test_two_cycles_give_two_panels_with_their_hypotheses(folder):
    exp = speed_experiment(folder, 30)
    exp.conclude("Den kørte længere jo hurtigere", supported=False)
    long_text = "Den kører halvt så langt som farten, fordi hjulene drejer hurtigere og hurtigere"
    exp.revise(long_text, prediction=lambda speed: speed / 2)
    for speed in SPEEDS:
        exp.trial(speed=speed)
        exp.record(distance=speed / 2 + 1)
    fig = exp.plot()
    assert len(fig.axes) == 2
    first, second = (ax.get_title() for ax in fig.axes)
    assert first == "Cyklus 1: Jo hurtigere, jo længere"
    prefix = "Cyklus 2: "
    assert second.startswith(prefix + "Den kører halvt") and second.endswith("…")
    assert len(second) <= len(prefix) + 40
    assert all(len(errorbars(ax)) == 1 for ax in fig.axes)


def test_many_cycles_wrap_at_three_per_row(folder):
    exp = Experiment("Hvor langt?", folder=folder)
    for cycle in range(1, 5):
        if cycle == 1:
            exp.hypothesis(f"Hypotese {cycle}", prediction=cycle)
        else:
            exp.conclude("ok", supported=True)
            exp.revise(f"Hypotese {cycle}", prediction=cycle)
        exp.record(distance=cycle)
    fig = exp.plot()
    assert len(fig.axes) == 4
    spec = [ax.get_subplotspec() for ax in fig.axes]
    assert spec[0].get_gridspec().get_geometry() == (2, 3)
    assert [s.rowspan.start for s in spec] == [0, 0, 0, 1]


def test_function_prediction_is_a_dashed_line_through_the_logged_values(folder):
    exp = speed_experiment(folder, lambda speed: speed / 2 + 1)
    for fig in (exp.plot(), Experiment.load(exp.path).plot()):   # the file has no function
        (line,) = prediction_lines(fig.axes[0])
        assert line.get_linestyle() == "--"
        assert list(line.get_xdata()) == [20, 50, 80]
        assert list(line.get_ydata()) == pytest.approx([11, 26, 41])


def record_with_robot(exp, robot):
    exp.hypothesis("Den kører 10 cm", prediction=10)
    for speed in (20, 50):
        exp.trial(speed=speed)
        for _ in range(3):
            robot.forward(speed / 5)
            exp.record(robot=robot)


def as_real_robot(path, folder):
    """The same logbook as if a Bluetooth robot had measured it."""
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for event in events:
        if event["event"] == "record":
            assert event["source"] == "simulator"
            event["source"] = "ble"
    real = folder / "rigtig.jsonl"
    real.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events),
                    encoding="utf-8")
    return Experiment.load(real)


def test_compare_simulator_and_real_robot_on_the_same_panel(folder):
    robot = Robot(noise=False, seed=1)
    sim = Experiment("Hvor langt kører den?", folder=folder)
    record_with_robot(sim, robot)
    real = as_real_robot(sim.path, folder)
    fig = sim.compare(real)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    sim_bars, real_bars = errorbars(ax)
    texts = legend_texts(ax)
    assert any(message("plot_robot_sim") in t for t in texts)
    assert any(message("plot_robot_real") in t for t in texts)
    assert message("plot_robot_sim") in sim_bars.get_label()
    assert message("plot_robot_real") in real_bars.get_label()
    # Side by side around the speeds, in different colours.
    sim_x = sim_bars.lines[0].get_xdata()
    real_x = real_bars.lines[0].get_xdata()
    assert all(s < v < r for s, v, r in zip(sim_x, (20, 50), real_x))
    assert list((sim_x + real_x) / 2) == pytest.approx([20, 50])
    assert sim_bars.lines[0].get_color() != real_bars.lines[0].get_color()
    # Same data: same means; one shared prediction line.
    odometer = message("exp_name_odometer")
    rows = sim.cycles[0].rows
    expected = [sum(r["measurements"][odometer] for r in rows if r["conditions"]["speed"] == s)
                / 3 for s in (20, 50)]
    assert list(sim_bars.lines[0].get_ydata()) == pytest.approx(expected)
    assert list(real_bars.lines[0].get_ydata()) == pytest.approx(expected)
    assert ax.get_ylabel() == odometer
    assert len(prediction_lines(ax)) == 1


def test_compare_labels_by_file_name_when_the_source_is_mixed_or_unknown(folder):
    a = speed_experiment(folder, 30)        # typed-in measurements: no robot source
    b = Experiment.load(a.path)
    fig = plot([a, b])
    labels = [c.get_label() for c in errorbars(fig.axes[0])]
    assert len(labels) == 2 and labels[0] != labels[1]
    assert all(a.path.stem[-3:] in label for label in labels)


def test_nothing_to_draw_gives_one_panel_that_says_so(folder):
    empty = Experiment("Hvor langt?", folder=folder)
    fig = empty.plot()
    assert len(fig.axes) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts and "hypotese" in " ".join(texts).lower()

    colours = Experiment("Hvilken farve?", folder=folder)
    colours.hypothesis("Den ser rød")
    colours.record(farve="rød")
    fig = colours.plot()
    assert len(fig.axes) == 1 and fig.axes[0].texts and not errorbars(fig.axes[0])


def test_a_figure_renders_to_png_and_shows_itself_in_a_notebook(folder):
    exp = speed_experiment(folder, {20: 10, 50: 25, 80: 40},
                           text="Den koster 5$ \\kr eller 10$")   # no mathtext surprises
    fig = exp.graf()                      # the Danish alias goes the same way
    assert isinstance(fig, Figure)
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    width, height = png_size(buffer.getvalue())
    assert 400 <= width <= 2000 and 300 <= height <= 1500
    shown = fig._repr_png_()              # what Jupyter shows, without a kernel
    assert png_size(shown) == (width, height)
    from IPython.core import formatters
    data, _ = formatters.DisplayFormatter().format(fig)
    assert png_size(data["image/png"]) == (width, height)


def test_importing_robotlab_does_not_import_matplotlib():
    code = ("import sys, robotlab, robotlab.experiment_plot; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_in_a_notebook_the_graph_shows_wherever_the_line_is(tmp_path):
    """eks.graf() before eks.konkluder(...) in one cell still shows the graph, once."""
    import nbformat
    from nbclient import NotebookClient
    first = ("from robotlab import Eksperiment\n"
             "eks = Eksperiment('Hvor langt?')\n"
             "eks.hypotese('20 cm', forudsigelse=20, måling='cm')\n"
             "eks.mål(cm=19)\n"
             "eks.graf()\n"
             "eks.konkluder('Næsten', bekræftet=True)")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(first), nbformat.v4.new_code_cell("eks.graf()")]
    NotebookClient(notebook, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    for cell in notebook.cells:
        pictures = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(pictures) == 1, cell.outputs
        assert not [o for o in cell.outputs if o["output_type"] in ("error", "execute_result")]


def test_one_trial_gets_a_readable_x_range(folder):
    from robotlab import Experiment
    exp = Experiment("Hvor langt?", folder=folder)
    exp.hypothesis("20 cm", prediction=20, measurement="cm")
    exp.record(cm=19)
    exp.record(cm=21)
    ax = exp.plot().axes[0]
    low, high = ax.get_xlim()
    assert low <= 0.5 and high >= 1.5            # trial 1 with room around it
    assert all(float(t).is_integer() for t in ax.get_xticks())
