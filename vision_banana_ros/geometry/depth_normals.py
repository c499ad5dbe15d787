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

"""Surface normals from depth alone: the cross product of the central differences between neighbouring points.

An independent cross-check of predicted normals, and the normals of the cloud when no normals task runs. Normals
point toward the camera (optical frame); they are NaN on the image border, where a neighbour is invalid, and
where the neighbours are collinear. Across depth discontinuities they describe the jump, not a surface.
"""
from __future__ import annotations

import math

import torch

from .backprojection import backproject
from .intrinsics import Intrinsics
from ..torch_ops import norm


def normals_from_depth(depth: torch.Tensor, intrinsics: Intrinsics) -> torch.Tensor:
    """... x H x W depth (metres, non-finite invalid) -> ... x 3 x H x W float32 unit normals, NaN where invalid."""
    points = backproject(depth, intrinsics)
    normals = torch.full_like(points, math.nan)
    # Image right (u) and down (v) form a right-handed pair with the viewing direction, so down x right
    # points back at the camera for every visible surface.
    du = points[..., 1:-1, 2:] - points[..., 1:-1, :-2]
    dv = points[..., 2:, 1:-1] - points[..., :-2, 1:-1]
    cross = torch.linalg.cross(dv, du, dim=-3)
    length = norm(cross, dim=-3, keepdim=True)
    normals[..., 1:-1, 1:-1] = torch.where(length > 0, cross / length, math.nan)
    return normals
