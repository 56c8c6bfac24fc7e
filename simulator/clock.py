"""Pacing virtual time against the wall clock.

In a notebook the world is paced to real time (or a chosen speed-up) so pupils
see the motion; in tests and grading it runs as fast as the CPU allows.
"""

from __future__ import annotations

import math
import time

#: When the wall clock runs ahead of virtual time by more than this (s) the
#: pacer re-anchors instead of racing to catch up (e.g. after a pause between cells).
MAX_LAG_S = 0.1


class Pacer:
    """Sleeps so that virtual seconds pass at ``speedup`` times wall-clock speed.

    ``speedup = math.inf`` means no pacing at all.
    """

    def __init__(self, speedup: float = 1.0, sleep=time.sleep, now=time.monotonic):
        self.speedup = speedup
        self._sleep, self._now = sleep, now
        self._anchor_wall = None
        self._anchor_virtual = 0.0

    def reanchor(self) -> None:
        """Forget the anchor: the next ``sync`` starts pacing afresh (after a pause)."""
        self._anchor_wall = None

    @property
    def paced(self) -> bool:
        return math.isfinite(self.speedup)

    def sync(self, virtual_s: float) -> None:
        """Called after the world reached virtual_s; waits until it is due on the wall."""
        if not self.paced:
            return
        now = self._now()
        if self._anchor_wall is None:
            self._anchor_wall, self._anchor_virtual = now, virtual_s
            return
        due = self._anchor_wall + (virtual_s - self._anchor_virtual) / self.speedup
        if now - due > MAX_LAG_S:
            self._anchor_wall, self._anchor_virtual = now, virtual_s
        elif due > now:
            self._sleep(due - now)
