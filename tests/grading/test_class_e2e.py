"""A class of 30 pupils through the real nbgrader command line, on one machine.

The teacher writes a simulator lesson (drive a 30 cm square), generates and releases it; each
pupil s01..s30 fetches it in their own folder, answers (correct, partly, wrong, crashing or
never-ending code), and submits; the teacher collects, autogrades, generates feedback and
exports the grades. Every score must be the one its kind of answer deserves, and the feedback
must say, in Danish and with a picture of the path, what went wrong.

Takes about 2–3 minutes on 2 cores: each nbgrader command spends about 2 s importing, and
autograde starts 30 kernels (three of them loop until the 5 s time limit stops them).
"""

import re
import time

import pytest
from nbgrader.api import Gradebook

# tests/grading has no __init__.py (it would shadow the grading package): import the helper
from tests.grading.lesson import ASSIGNMENT, KINDS, MAX_POINTS, Course, class_list  # noqa: E402

TIME_LIMIT_S = 5


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    pupils = class_list()
    assert len(pupils) == 30 and len(set(pupils)) == 30
    course = Course(tmp_path_factory.mktemp("klasse"), time_limit_s=TIME_LIMIT_S, pupils=pupils)
    times = {}

    def step(name, fn, *args, **kwargs):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        times[name] = time.perf_counter() - start
        return result

    step("setup", lambda: (course.add_students(), course.write_source(), course.release()))
    step("fetch+submit", course.all_pupils_submit)
    step("collect", course.collect)
    step("autograde", course.autograde, timeout=300)
    step("feedback", course.feedback)
    grades = step("export", course.export)
    print("\nnbgrader steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
    return course, grades


def test_every_pupil_submitted_and_was_collected(graded):
    course, grades = graded
    assert sorted(grades) == sorted(course.pupils)
    for sid in course.pupils:
        submitted = course.dir / "submitted" / sid / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert submitted.is_file(), sid


def test_scores_in_the_export_match_each_kind_of_answer(graded):
    course, grades = graded
    wrong = {sid: (kind, float(grades[sid]["score"]), KINDS[kind].points)
             for sid, kind in course.pupils.items()
             if float(grades[sid]["score"]) != KINDS[kind].points}
    assert not wrong, f"student: (kind, score, expected): {wrong}"
    for sid in course.pupils:
        assert float(grades[sid]["max_score"]) == MAX_POINTS


def test_gradebook_agrees(graded):
    course, _ = graded
    with Gradebook(f"sqlite:///{course.dir / 'gradebook.db'}", course_id="robot-test") as gb:
        for sid, kind in course.pupils.items():
            sub = gb.find_submission(ASSIGNMENT, sid)
            assert sub.score == KINDS[kind].points, (sid, kind, sub.score)
            assert sub.max_score == MAX_POINTS
            if kind == "correct":
                assert sub.score == sub.max_score


def _first(course, kind):
    return next(sid for sid, k in course.pupils.items() if k == kind)


def _text(html):
    """The feedback's text, without styles, scripts and tags (nbconvert colours tracebacks
    with spans)."""
    html = re.sub(r"(?s)<(style|script)\b.*?</\1>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_feedback_for_a_wrong_answer_explains_in_danish_with_a_picture(graded):
    course, _ = graded
    html = course.feedback_html(_first(course, "wrong"))
    text = _text(html)
    assert "Firkanten er ikke lukket" in text
    assert "stødte ind i noget" in text
    # The check's own picture of the path: in the test cell's output, before its message.
    message = html.index("Firkanten er ikke lukket")
    test_cell = html[html.rindex("test_firkant", 0, message):message]
    assert "data:image/png;base64" in test_cell


def test_feedback_for_a_partly_right_answer_names_the_failing_check(graded):
    course, _ = graded
    text = _text(course.feedback_html(_first(course, "partly")))
    assert "Robotten kørte 80 cm, men firkanten skal være 120 cm rundt" in text


def test_never_ending_answers_are_stopped_and_graded(graded):
    course, _ = graded
    for sid, kind in course.pupils.items():
        if kind != "never_ending":
            continue
        text = _text(course.feedback_html(sid))
        assert f"Programmet blev stoppet efter {TIME_LIMIT_S} sekunder" in text, sid
        # The check knows the program was stopped, and says so.
        assert "Robotten kørte kun 30 cm" in text and "tog for lang tid" in text, sid


def test_crashing_answers_show_their_error(graded):
    course, _ = graded
    text = _text(course.feedback_html(_first(course, "crashing")))
    assert "NameError" in text and "robt" in text
    assert "Robotten kørte kun 0 cm" in text


def test_correct_answers_have_full_points_and_no_complaints(graded):
    course, _ = graded
    text = _text(course.feedback_html(_first(course, "correct")))
    assert "Error" not in text and "Traceback" not in text
    assert "(Score: 2.0 / 2.0)" in text
