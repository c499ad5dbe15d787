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
network paints depth as a camera with the canonical focal length would measure it, and each frame's answer is scaled
by its own focal length: depth = canonical depth * focal / canonical focal, both in pixels of the network's input.
Pixels, because what the network reads is how large things look in its input: a window cut from a frame, or the
frame processed at another size, shows the same scene at the same or another pixel scale, not another lens. The
weights record the canonical focal length in units of the width they were trained at
(`vision_banana.canonical_focal` beside `vision_banana.trained_size`); new networks start with the 70 deg camera's
at the width of their training frames and keep that length in pixels through later training at any size. Older
weights paint metres directly and are decoded as before.
"""
from __future__ import annotations

import math

CANONICAL_HFOV_DEG = 70.0
CANONICAL_FOCAL = 0.5 / math.tan(math.radians(CANONICAL_HFOV_DEG) / 2)   # 0.714 image widths


def focal_of(fx: float, width: float) -> float:
    """A focal length in pixels as image widths."""
    return float(fx) / float(width)


def canonical_focal_at(canonical_focal: float, trained_width: float, width: float) -> float:
    """A canonical focal length of `canonical_focal` widths of `trained_width` pixels, in widths of `width` pixels:
    the same length in pixels.
    """
    return canonical_focal * trained_width / width
