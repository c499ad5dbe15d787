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

"""A plane seen by a pinhole camera, computed in float64 independently of the geometry code under test."""
import numpy as np

# Tilted plane {p : NORMAL . p = OFFSET} in front of the camera; NORMAL points away from it.
NORMAL = np.array([0.3, -0.2, 1.0]) / np.linalg.norm([0.3, -0.2, 1.0])
OFFSET = 3.0
FX, FY, CX, CY, WIDTH, HEIGHT = 525.0, 520.0, 319.3, 241.7, 640, 480


def plane_depth(fx=FX, fy=FY, cx=CX, cy=CY, u=None, v=None, width=WIDTH, height=HEIGHT,
                normal=NORMAL, offset=OFFSET):
    """Depth (z, float32) of the plane along the ray of pixel coordinates u (columns) x v (rows)."""
    u = np.arange(width, dtype=np.float64) if u is None else np.asarray(u, dtype=np.float64)
    v = np.arange(height, dtype=np.float64) if v is None else np.asarray(v, dtype=np.float64)
    rx, ry = (u - cx) / fx, ((v - cy) / fy)[:, None]
    return (offset / (normal[0] * rx + normal[1] * ry + normal[2])).astype(np.float32)


def plane_error(points):
    """|distance to the plane| of ... x 3 points (metres)."""
    return np.abs(np.asarray(points, dtype=np.float64) @ NORMAL - OFFSET)
