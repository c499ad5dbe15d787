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

"""A camera's decode thread: a newer frame replaces one still waiting (frames_dropped_undecoded), never a queue."""
import threading
import time

from vision_banana_ros.ros.decoding import CameraDecoder


def test_frames_arriving_while_one_decodes_leave_only_the_newest_waiting():
    decoding, release, decoded = threading.Event(), threading.Event(), []

    def decode(item):
        decoded.append(item)
        if item == 1:
            decoding.set()
            release.wait(10.0)      # a slow frame (bounded, so that a failure ends)

    decoder = CameraDecoder('front', decode)
    decoder.put(1)
    assert decoding.wait(10.0)
    for item in (2, 3, 4, 5):       # arrive while 1 decodes: each replaces the one before
        decoder.put(item)
    release.set()
    for _ in range(200):
        if decoded == [1, 5]:
            break
        time.sleep(0.01)
    assert decoded == [1, 5] and decoder.replaced == 3
    assert decoder.close()
    decoder.put(6)                  # after close: ignored
    assert decoded == [1, 5]
