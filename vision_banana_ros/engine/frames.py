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

"""What goes into the engine and what comes out, per camera frame."""
from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Any

import numpy as np


@dataclass
class FrameRequest:
    """One camera image to process. `header` (the image message's, rclpy's or rosbags') and `intrinsics` travel
    untouched to the result, so every output can carry the input's header. `tasks` narrows the work to what somebody
    will use: a batch runs the union of its frames' tasks, and each result holds only its own. `turn_deg` turns
    the image about its principal point (counter-clockwise as displayed) before the backend sees it, and the answers
    back into the image's pixels (engine.upright: a rolled camera shown to the model upright); it needs the
    intrinsics, since the turned image is shown smaller than its canvas (a lens assumed for the canvas would be
    wrong for the image).
    """

    camera_id: str
    image: np.ndarray               # H x W x 3 uint8 RGB
    header: Any = None
    intrinsics: Any = None
    tasks: tuple[str, ...] | None = None   # None: every task the runner was set up with
    turn_deg: float = 0.0
    submitted: float = field(default_factory=time.monotonic)

    def __post_init__(self):
        image = self.image
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            shape = getattr(image, 'shape', None)
            dtype = getattr(image, 'dtype', type(image).__name__)
            raise ValueError(f'camera {self.camera_id!r}: image must be H x W x 3 uint8 RGB, got {shape} {dtype}')
        if image.shape[0] < 8 or image.shape[1] < 8:
            raise ValueError(f'camera {self.camera_id!r}: image {image.shape[1]}x{image.shape[0]} is too small')
        if self.turn_deg and self.intrinsics is None:
            raise ValueError(f'camera {self.camera_id!r}: a frame turned upright needs its intrinsics')


@dataclass
class FrameResult:
    """Decoded answers at the input resolution (host memory). A task not run leaves its fields None.

    labels H x W uint8 train ids; confidence H x W float32; depth H x W float32 metres (+inf far, NaN invalid);
    normals H x W x 3 float32 (optical frame, NaN invalid); encodings: task -> H x W x 3 uint8 RGB answer;
    timings: stage -> milliseconds (queue, upload, forward, decode, download).
    """

    camera_id: str
    header: Any
    intrinsics: Any
    image: np.ndarray               # the input, for overlays and cloud colours (not a copy)
    labels: np.ndarray | None
    confidence: np.ndarray | None
    depth: np.ndarray | None
    normals: np.ndarray | None
    encodings: dict[str, np.ndarray]
    timings: dict[str, float]
    batch_size: int
