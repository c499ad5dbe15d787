# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""Frames a camera sent that never reached the node, estimated from the gaps between its header stamps.

ROS 2 headers carry no sequence number, so a frame dropped by the transport (a best-effort subscription whose queue
was full, an executor thread starved of CPU) leaves no trace but a longer gap between the stamps on either side of
it. The camera's period is estimated as the median of its recent stamp gaps (robust to jitter and to a minority of
gaps that span lost frames); a gap of n periods, rounded, means n - 1 frames missed. Stamps that go backwards (a
looping bag under use_sim_time, a camera driver restarted) count a jump and start over from the new stamp; a gap
longer than MAX_GAP_PERIODS periods is an interruption (a paused bag, a camera unplugged), not missed frames. A
stream whose every other frame is lost looks like one at half the rate: nothing can tell them apart.
"""
from __future__ import annotations

from collections import deque
import statistics

MIN_GAPS = 5            # gaps seen before a period is trusted
MAX_GAP_PERIODS = 100   # a longer gap is an interruption, not lost frames


class StampGaps:
    """Counts the frames missing between header stamps (nanoseconds), stamp jumps back and interruptions."""

    def __init__(self, history: int = 50):
        self.gaps: deque[int] = deque(maxlen=history)   # recent positive gaps, nanoseconds
        self.last_ns: int | None = None
        self.missed = 0           # frames estimated missing between stamps
        self.jumps_back = 0       # a stamp earlier than the one before
        self.interruptions = 0    # gaps longer than MAX_GAP_PERIODS periods
        self.duplicates = 0       # a stamp equal to the one before

    @property
    def period_ns(self) -> float | None:
        """The camera's period: the median of its recent stamp gaps (None until MIN_GAPS were seen)."""
        return float(statistics.median(self.gaps)) if len(self.gaps) >= MIN_GAPS else None

    def add(self, stamp_ns: int) -> None:
        """Take the next frame's header stamp."""
        last, self.last_ns = self.last_ns, stamp_ns
        if last is None:
            return
        gap = stamp_ns - last
        if gap < 0:
            self.jumps_back += 1    # the gap history still describes the camera: its period stays known
            return
        if gap == 0:
            self.duplicates += 1
            return
        period = self.period_ns
        if period is not None:
            periods = round(gap / period)
            if periods > MAX_GAP_PERIODS:
                self.interruptions += 1
                return          # not a gap of this stream's: kept out of the period estimate too
            self.missed += max(0, periods - 1)
        self.gaps.append(gap)
