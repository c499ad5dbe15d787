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

"""Camera-aware metric depth through a canonical camera (the idea of Metric3D).

The same picture taken through a wider lens shows a closer scene: an image alone does not fix metric depth. So the
network paints depth as a camera with the canonical focal length would measure it (70 deg horizontal field of
view), and each frame's answer is scaled by its own focal length: depth = canonical depth * focal / CANONICAL.
Focal lengths here are in units of the image width (fx / width), which a resize of the whole frame keeps.
Weights record that they paint canonical depth (`vision_banana.canonical_focal`); older weights paint metres
directly and are decoded as before.
"""
from __future__ import annotations

import math

CANONICAL_HFOV_DEG = 70.0
CANONICAL_FOCAL = 0.5 / math.tan(math.radians(CANONICAL_HFOV_DEG) / 2)   # 0.714 image widths


def focal_of(fx: float, width: float) -> float:
    """A focal length in pixels as image widths."""
    return float(fx) / float(width)
