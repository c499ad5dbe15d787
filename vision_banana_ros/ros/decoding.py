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

"""One thread per camera decodes its images, so that a frame slow to decode (a large JPEG, a slow yuv conversion)
holds up neither the executor (parameter services, lifecycle transitions, CameraInfo) nor the other cameras.
"""
from __future__ import annotations

import threading
from typing import Callable


class CameraDecoder:
    """Holds a camera's newest undecoded message and hands it to `decode` on this camera's thread. A message that
    arrives while the previous one still waits replaces it (counted in `replaced`): the engine wants the newest
    frame of each camera anyway. `decode` handles its own errors.
    """

    def __init__(self, name: str, decode: Callable[[object], None]):
        self._decode = decode
        self._pending = None
        self._closed = False
        self._wake = threading.Condition()
        self.replaced = 0
        self._thread = threading.Thread(target=self._run, name=f'vision_banana decode {name or "camera"}',
                                        daemon=True)
        self._thread.start()

    def put(self, item) -> None:
        """Queue `item` for decoding, replacing one still waiting; ignored once closed."""
        with self._wake:
            if self._closed:
                return
            if self._pending is not None:
                self.replaced += 1
            self._pending = item
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                item, self._pending = self._pending, None
            self._decode(item)

    def close(self, timeout_s: float = 2.0) -> bool:
        """Drop what waits and stop the thread, waiting at most `timeout_s` for a decode in progress; returns
        whether the thread ended.
        """
        with self._wake:
            self._closed = True
            self._pending = None
            self._wake.notify()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()
