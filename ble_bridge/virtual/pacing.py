"""Virtual devices' clocks on the radio loop, paced to the wall clock.

    async for step_s in real_time_steps():
        world.advance(step_s)

Each wake-up (every ``TICK_S``) yields the wall time since the last one in
steps of at most ``TICK_S``, so a device's deadlines are never overshot by
more than one tick. After the loop stalled, at most ``MAX_CATCH_UP_S`` is
caught up: beyond it the device's clock falls behind the wall clock instead
of racing ahead of frames still queued.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

#: Seconds between two wake-ups, and the longest step.
TICK_S = 0.01
#: At most this much device time (s) is caught up after the loop stalled.
MAX_CATCH_UP_S = 0.1


async def real_time_steps(tick_s: float = TICK_S,
                          max_catch_up_s: float = MAX_CATCH_UP_S) -> AsyncIterator[float]:
    """Steps of device time (s) that keep pace with the wall clock; endless."""
    last = time.monotonic()
    while True:
        await asyncio.sleep(tick_s)
        now = time.monotonic()
        behind_s, last = min(now - last, max_catch_up_s), now
        while behind_s > 1e-9:
            step_s = min(tick_s, behind_s)
            behind_s -= step_s
            yield step_s
