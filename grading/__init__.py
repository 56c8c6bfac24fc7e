"""Grading robot lessons with nbgrader: checks for hidden test cells, course set-up, class reports.

Hidden test cells call the checks in ``grading.checks`` on the pupil's robot or
experiment; a failing check raises ``AssertionError`` with a short message in
the pupil's language and shows a picture of the path the robot drove. Teachers
use ``robotlab course ...`` (``grading.course``) on top of nbgrader's own commands.
"""
