"""An nbgrader exchange that keeps pupils apart: one inbound folder per pupil.

nbgrader's default filesystem exchange has one ``inbound`` folder that every pupil can
write to, each submission world-readable inside it, and ``nbgrader submit --student X``
files a submission under any name. So a pupil can plant a submission as a classmate,
and whoever learns a submission's folder name can read it, and with its
``submission_secret.txt`` find the classmate's feedback. Here:

* ``inbound/<pupil>/`` is made by ``courses.prepare_exchange`` for each pupil, owned by
  the pupil, group the course's teachers, mode 2750: only the pupil writes there, only the
  pupil and the teachers read it. ``inbound/`` itself is 0751 (teachers list it, pupils
  pass through). A pupil always submits as their own Unix user.
* Collect takes a submission only from ``inbound/<pupil>/``, only when the folder and the
  submission are owned by that pupil and named for that pupil.
* Feedback goes to ``feedback/<pupil>/<hash>.html`` (nbgrader: ``feedback/<hash>.html``,
  readable by anyone who learns the hash): the pupil's folder, group the teachers, mode
  2770, so teachers write it and only that pupil reads it.

Turned on in ``deploy/singleuser/common/nbgrader_config.py`` for pupils and teachers.
"""

from __future__ import annotations

import base64
import glob
import os
import pwd
import re

from nbgrader.exchange.default import (ExchangeCollect, ExchangeFetchFeedback, ExchangeList,
                                       ExchangeReleaseFeedback, ExchangeSubmit)
from nbgrader.utils import check_mode, get_username, notebook_hash


def pupil_feedback(root: str, course_id: str, pupil: str, feedback_file: str) -> str:
    """Where a pupil's feedback lives: ``<root>/<course>/feedback/<pupil>/<hash>.html``."""
    return os.path.join(root, course_id, "feedback", pupil, os.path.basename(feedback_file))


class PupilSubmit(ExchangeSubmit):
    """``nbgrader submit`` into the pupil's own ``inbound/<pupil>/``, as the pupil only."""

    def init_dest(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        if not self.authenticator.has_access(self.coursedir.student_id, self.coursedir.course_id):
            self.fail("You do not have access to this course.")
        student_id = get_username()
        if self.coursedir.student_id not in ("*", "", student_id):
            self.fail(f"You can only submit as yourself ({student_id}).")
        self.inbound_path = os.path.join(self.root, self.coursedir.course_id, "inbound",
                                         student_id)
        if not os.path.isdir(self.inbound_path):
            self.fail(f"You have no inbound folder in this course: {self.inbound_path}")
        if not check_mode(self.inbound_path, write=True, execute=True):
            self.fail(f"You don't have write permissions to the directory: {self.inbound_path}")
        self.cache_path = os.path.join(self.cache, self.coursedir.course_id)
        random_str = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        self.assignment_filename = "{}+{}+{}+{}".format(
            student_id, self.coursedir.assignment_id, self.timestamp, random_str)

    def copy_files(self):
        super().copy_files()
        # nbgrader opens the submission to all (0777) so that teachers can delete it;
        # in a pupil's own folder the teachers' group is enough.
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), 0o750)


class PupilCollect(ExchangeCollect):
    """``nbgrader collect`` from ``inbound/<pupil>/``, trusting only what each pupil owns."""

    def init_src(self):
        super().init_src()
        # super() looked in inbound/ itself; look again, pupil by pupil.
        student_id = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, student_id,
                               f"{student_id}+{self.coursedir.assignment_id}+*")
        by_pupil: dict[str, list[dict]] = {}
        for path in glob.glob(pattern):
            record = self._genuine(path)
            if record is not None:
                by_pupil.setdefault(record["username"], []).append(record)
        self.src_records = [self._choose(records) for records in by_pupil.values()]

    def _choose(self, records: list[dict]) -> dict:
        """The newest submission (with --before-duedate: the newest before the due date)."""
        records = self._sort_by_timestamp(records)
        if self.duedate is not None and self.before_duedate:
            before = [r for r in records if r["timestamp"] <= self.duedate]
            return (before or records)[0]
        return records[0]

    def _genuine(self, path: str) -> dict | None:
        """The submission's record, or None (and a warning) when it is not the pupil's own."""
        folder = os.path.basename(os.path.dirname(path))
        record = self._path_to_record(path)
        record["filename"] = os.path.join(folder, record["filename"])
        try:
            owner_uid = pwd.getpwnam(folder).pw_uid
        except KeyError:
            owner_uid = None
        if (record["username"] != folder or owner_uid is None
                or os.stat(os.path.dirname(path)).st_uid != owner_uid
                or os.stat(path).st_uid != owner_uid):
            self.log.warning("Skipping %s: not submitted by %s", path, record["username"])
            return None
        return record


class PupilReleaseFeedback(ExchangeReleaseFeedback):
    """``nbgrader release_feedback`` into each pupil's own ``feedback/<pupil>/``."""

    def copy_files(self):
        everyone = self.src_path        # .../feedback/<* or one pupil>/<assignment>
        pupils = sorted(os.path.basename(os.path.dirname(path))
                        for path in glob.glob(everyone) if os.path.isdir(path))
        for pupil in pupils:
            self.src_path = self.coursedir.format_path(
                self.coursedir.feedback_directory, pupil, self.coursedir.assignment_id)
            self.dest_path = os.path.join(self.outbound_feedback_path, pupil)
            if not os.path.isdir(self.dest_path):
                self.log.warning("No feedback folder for %s (run robotlab_hub.courses prepare)",
                                 pupil)
                continue
            super().copy_files()
        self.src_path = everyone


class PupilFetchFeedback(ExchangeFetchFeedback):
    """``nbgrader fetch_feedback`` from the pupil's own ``feedback/<pupil>/``.

    nbgrader's ``init_src`` sets ``outbound_path`` to the shared ``feedback/`` and looks
    for each notebook's ``<hash>.html`` there; this property puts the pupil's own folder
    in its place, so the same search runs where the feedback is.
    """

    @property
    def outbound_path(self) -> str:
        return self._own_feedback

    @outbound_path.setter
    def outbound_path(self, shared: str) -> None:
        self._own_feedback = os.path.join(shared, get_username())


class PupilList(ExchangeList):
    """``nbgrader list --inbound`` over the per-pupil inbound folders."""

    INBOUND = re.compile(r".*/(?P<course_id>[^/]*)/inbound/[^/]+/(?P<student_id>[^+/]*)\+"
                         r"(?P<assignment_id>[^+]*)\+(?P<timestamp>[^+]*)(?P<random_string>\+.*)?")

    def init_dest(self):
        super().init_dest()
        if self.inbound:
            course_id = self.coursedir.course_id or "*"
            assignment_id = self.coursedir.assignment_id or "*"
            student_id = self.coursedir.student_id or "*"
            pattern = os.path.join(self.root, course_id, "inbound", student_id,
                                   f"{student_id}+{assignment_id}+*")
            self.assignments = sorted(glob.glob(pattern))

    def parse_assignments(self):
        assignments = super().parse_assignments()
        if self.inbound or self.cached:
            for assignment in assignments:
                for info in assignment["submissions"]:
                    self._look_for_feedback(info)
        return assignments

    def _look_for_feedback(self, info: dict) -> None:
        """Feedback waits in ``feedback/<pupil>/``, where super() did not look."""
        secret_path = os.path.join(info["path"], "submission_secret.txt")
        if not info.get("notebooks") or not os.path.isfile(secret_path):
            return
        with open(secret_path) as f:
            secret = f.read()
        for notebook in info["notebooks"]:
            name = notebook_hash(secret=secret, notebook_id=notebook["notebook_id"]) + ".html"
            waiting = pupil_feedback(self.root, info["course_id"], info["student_id"], name)
            notebook["has_exchange_feedback"] = os.path.isfile(waiting)
            if notebook["has_exchange_feedback"] and notebook["has_local_feedback"]:
                with open(waiting, "rb") as a, open(notebook["local_feedback_path"], "rb") as b:
                    notebook["feedback_updated"] = a.read() != b.read()
        info["has_exchange_feedback"] = all(nb["has_exchange_feedback"] for nb in info["notebooks"])
        info["feedback_updated"] = any(nb["feedback_updated"] for nb in info["notebooks"])

    def parse_assignment(self, assignment):
        if not self.inbound:
            return super().parse_assignment(assignment)
        found = self.INBOUND.match(assignment)
        if found is None:
            raise RuntimeError(f"Could not match {assignment!r}")
        return found.groupdict()
