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

"""One camera's publishers, subscriptions, latest CameraInfo and the counters its diagnostics report."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
import time

from sensor_msgs.msg import CameraInfo

from .decoding import CameraDecoder
from .stamp_gaps import StampGaps
from ..geometry.ground import LockState


class EventRate:
    """Events per second over the last few seconds, and their total."""

    def __init__(self, window_s: float = 5.0):
        self.window = window_s
        self.times: deque[float] = deque()
        self.total = 0
        self.last: float | None = None   # time.monotonic() of the latest event

    def tick(self) -> None:
        """Count one frame now."""
        self.last = time.monotonic()
        self.times.append(self.last)
        self.total += 1

    def silent_for(self) -> float | None:
        """Seconds since the latest event on the steady clock (None before the first)."""
        return None if self.last is None else time.monotonic() - self.last

    def hz(self) -> float:
        """Frames per second over the last `window` seconds."""
        now = time.monotonic()
        while self.times and self.times[0] < now - self.window:
            self.times.popleft()
        return len(self.times) / self.window


def _latency_window() -> deque:
    return deque(maxlen=500)


@dataclass
class Camera:
    """A camera namespace (`name`; topics under `prefix`, '' for one camera with relative topics)."""

    name: str
    prefix: str
    publishers: dict = field(default_factory=dict)       # output topic -> publisher
    subscriptions: list = field(default_factory=list)
    info: CameraInfo | None = None
    received: EventRate = field(default_factory=EventRate)
    published: EventRate = field(default_factory=EventRate)
    rejected: int = 0
    failed: int = 0                      # outputs not built or not published
    skipped_no_tf: int = 0               # frames whose clouds or grid went out for want of a transform
    skip_problem: str = ''               # the latest of them, for the diagnostics message
    inference_failed: int = 0            # frames the engine could not answer
    fallback_intrinsics: bool = False    # no usable CameraInfo yet: fallback_hfov_deg in use
    info_refused: int = 0                # CameraInfo messages refused (absurd K or P, non-finite D)
    latency_ms: deque = field(default_factory=_latency_window)
    gaps: StampGaps = field(default_factory=StampGaps)   # frames missed before they arrived, from header stamps
    decoder: CameraDecoder | None = None  # this camera's decode thread, while active
    qos_incompatible: int = 0            # peers found with QoS this camera's topics cannot talk to
    qos_problem: str = ''                # the latest of them, for the diagnostics message
    ground_lock: tuple | None = None     # scale_lock ground: (its parameters, GroundLock)
    ground: LockState | None = None      # what the lock did to the latest frame
    upright_turn: float | None = None    # upright on: the latest frame's turn in degrees (None: upright off)
    upright_problem: str = ''            # why the latest frame was not turned, where it could not be

    def subscribed(self) -> list[str]:
        """The output topics somebody subscribes to."""
        return [topic for topic, publisher in self.publishers.items() if publisher.get_subscription_count() > 0]
