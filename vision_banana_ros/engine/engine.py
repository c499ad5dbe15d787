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

"""The batching engine: many cameras, one forward per batch, on a worker thread of its own.

`submit()` never blocks: it queues the frame and returns a Future. Each camera has at most one queued frame —
a newer frame replaces the queued one (whose Future is cancelled and counted as dropped), so queues are bounded
by the number of cameras and latency cannot grow under overload. The newer frame keeps the camera's place in
line (cameras are served in the order they started waiting), so a camera that publishes fast cannot starve one
that publishes slowly. The worker takes up to `max_batch` frames as soon as that many cameras are waiting, or
when the camera waiting longest has waited `max_wait_ms`.

A failed batch is retried in halves, down to single frames, so that one poison frame fails alone and its batch
mates are answered. CUDA out of memory also empties the allocator's cache and halves `max_batch` for good (until
its owner sets it again); `out_of_memory` counts those events.

`cpu_threads` (0: torch's setting as it is) is applied by the worker before each batch: torch's intra-op thread
count belongs to the thread that runs the ops, so a change made from another thread would not reach inference.
"""
from __future__ import annotations

from collections import OrderedDict
from concurrent.futures import Future
import threading
import time
from typing import Callable

import torch

from .frames import FrameRequest, FrameResult
from .runner import BatchRunner
from .stats import EngineStats


class Engine:
    """Batches frames from many cameras onto one runner, on a worker thread."""

    def __init__(self, runner: BatchRunner, max_batch: int = 4, max_wait_ms: float = 5.0,
                 on_result: Callable[[FrameResult], None] | None = None,
                 on_error: Callable[[list[FrameRequest], BaseException], None] | None = None, cpu_threads: int = 0):
        if max_batch < 1:
            raise ValueError(f'max_batch must be >= 1, got {max_batch}')
        if max_wait_ms < 0:
            raise ValueError(f'max_wait_ms must be >= 0, got {max_wait_ms}')
        self.runner = runner
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1e3
        self.cpu_threads = cpu_threads
        self.on_result = on_result
        self.on_error = on_error
        self.stats = EngineStats()
        # camera -> (its newest request, that request's future, when the camera started waiting)
        self._pending: OrderedDict[str, tuple[FrameRequest, Future, float]] = OrderedDict()
        self._cond = threading.Condition()
        self._closing = False
        self._worker = threading.Thread(target=self._loop, name='vision_banana_engine', daemon=True)
        self._worker.start()

    def submit(self, request: FrameRequest) -> Future:
        """Queue a frame (replacing its camera's queued one) and return its Future; never blocks."""
        future: Future = Future()
        with self._cond:
            if self._closing:
                raise RuntimeError('engine is closed')
            previous = self._pending.get(request.camera_id)
            if previous is not None:
                previous[1].cancel()
                self.stats.count('dropped')
            # Assigning to an existing key keeps its place in the OrderedDict.
            waiting_since = previous[2] if previous is not None else request.submitted
            self._pending[request.camera_id] = (request, future, waiting_since)
            self.stats.count('submitted')
            self._cond.notify()
        return future

    def queued(self) -> int:
        """Number of frames waiting for a batch."""
        with self._cond:
            return len(self._pending)

    def _take_batch(self) -> list[tuple[FrameRequest, Future]] | None:
        with self._cond:
            while not self._pending and not self._closing:
                self._cond.wait()
            if self._closing:
                return None
            while len(self._pending) < self.max_batch and not self._closing:
                longest = next(iter(self._pending.values()))[2]
                remaining = longest + self.max_wait - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._closing:
                return None
            return [self._pending.popitem(last=False)[1][:2] for _ in range(min(self.max_batch, len(self._pending)))]

    def _loop(self) -> None:
        while (batch := self._take_batch()) is not None:
            live = [(r, f) for r, f in batch if f.set_running_or_notify_cancel()]
            if live:
                if self.cpu_threads and torch.get_num_threads() != self.cpu_threads:
                    torch.set_num_threads(self.cpu_threads)
                self._run(live)

    def _run(self, live: list[tuple[FrameRequest, Future]]) -> None:
        """Answer `live` in one forward, or in halves after a failure, so that only failing frames fail."""
        if len(live) > self.max_batch:  # halved by out of memory since this batch was taken
            for start in range(0, len(live), self.max_batch):
                self._run(live[start:start + self.max_batch])
            return
        try:
            results = self.runner.run([r for r, _ in live])
        except torch.OutOfMemoryError as exc:
            self.stats.count('out_of_memory')
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            self.max_batch = max(1, min(self.max_batch, len(live)) // 2)
            self._retry_or_fail(live, exc)
            return
        except Exception as exc:  # a bad frame must not kill the worker or fail its batch mates
            self._retry_or_fail(live, exc)
            return
        self.stats.record_batch([r.timings for r in results])
        for (_, future), result in zip(live, results):
            future.set_result(result)
            if self.on_result:
                try:
                    self.on_result(result)
                except Exception:  # a failing consumer must not stop the engine for everyone else
                    self.stats.count('callback_errors')

    def _retry_or_fail(self, live: list[tuple[FrameRequest, Future]], exc: BaseException) -> None:
        if len(live) > 1:
            self.stats.count('split_batches')
            half = len(live) // 2
            self._run(live[:half])
            self._run(live[half:])
            return
        self.stats.count('failed')
        live[0][1].set_exception(exc)
        if self.on_error:
            try:
                self.on_error([live[0][0]], exc)
            except Exception:
                self.stats.count('callback_errors')

    def close(self, timeout: float = 2.0) -> bool:
        """Stop taking frames, cancel what is queued, and join the worker (it finishes the batch in hand). False
        when the worker is still busy after `timeout` seconds (it stops after that batch).
        """
        with self._cond:
            self._closing = True
            for _, future, _ in self._pending.values():
                future.cancel()
            self._pending.clear()
            self._cond.notify_all()
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker of a closed engine to end (at most `timeout` seconds; None: as long as its last
        batch takes); returns whether it ended.
        """
        self._worker.join(timeout)
        return not self._worker.is_alive()

    def __enter__(self) -> 'Engine':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
