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

"""Counters and stage timings of an engine, safe to read from another thread."""
from __future__ import annotations

from collections import Counter, deque
import threading

import numpy as np

STAGES = ('queue', 'upload', 'forward', 'decode', 'download', 'total')


class EngineStats:
    """Thread-safe counters and per-stage timings of the engine, over a window of frames."""

    def __init__(self, window: int = 1000):
        self._lock = threading.Lock()
        self.counts = Counter()
        self.batch_sizes = Counter()
        self._timings = {stage: deque(maxlen=window) for stage in STAGES}

    def count(self, key: str, n: int = 1) -> None:
        """Add `n` to the counter `key`."""
        with self._lock:
            self.counts[key] += n

    def record_batch(self, timings: list[dict[str, float]]) -> None:
        """Count one batch and keep its frames' stage timings (milliseconds)."""
        with self._lock:
            self.counts['batches'] += 1
            self.counts['processed'] += len(timings)
            self.batch_sizes[len(timings)] += 1
            for frame in timings:
                for stage, ms in frame.items():
                    self._timings[stage].append(ms)
                self._timings['total'].append(sum(frame.values()))

    def snapshot(self) -> dict:
        """Counts, batch-size histogram and p50/p99 per stage in milliseconds."""
        with self._lock:
            timings = {stage: (float(np.percentile(v, 50)), float(np.percentile(v, 99)))
                       for stage, v in self._timings.items() if v}
            return {'counts': dict(self.counts), 'batch_sizes': dict(self.batch_sizes),
                    'ms_p50_p99': timings}
