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

"""Depth -> 3-D points in the camera optical frame (x right, y down, z forward): a point at depth z seen by
pixel (u, v) is z (rx, ry, 1), with the pixel's ray rx = (u - cx) / fx, ry = (v - cy) / fy.

Depth is z in metres (REP 118); NaN, +/-inf, zero and negative depths are invalid and back-project to NaN.
Intrinsics whose size differs from the depth map's are scaled to it (the depth is taken to be a resize of the
whole camera image, as the model's processing resolution is).
"""
from __future__ import annotations

from functools import lru_cache
import math

import torch

from .intrinsics import Intrinsics


@lru_cache(maxsize=16)
def _rays(intrinsics: Intrinsics, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    v, u = torch.meshgrid(torch.arange(intrinsics.height, dtype=torch.float64),
                          torch.arange(intrinsics.width, dtype=torch.float64), indexing='ij')
    rx, ry = (u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy
    norm = torch.sqrt(1.0 + rx ** 2 + ry ** 2)
    return tuple(grid.float().to(device) for grid in (rx, ry, norm))


def _grids(intrinsics: Intrinsics, like) -> tuple:
    if isinstance(like, torch.Tensor):
        return _rays(intrinsics, like.device)
    return tuple(grid.numpy() for grid in _rays(intrinsics, torch.device('cpu')))


def ray_grids(intrinsics: Intrinsics, like) -> tuple:
    """H x W grids of rx and ry (cached), numpy arrays or tensors on the device of `like`."""
    return _grids(intrinsics, like)[:2]


def ray_lengths(intrinsics: Intrinsics, like):
    """H x W grid of |(rx, ry, 1)| (cached): a point's range is its depth times this."""
    return _grids(intrinsics, like)[2]


def depth_validity(depth, intrinsics: Intrinsics, min_range: float = 0.0, max_range: float = math.inf):
    """... x H x W bool, a numpy array or a tensor like `depth`: depth finite and positive, and the point's
    distance from the optical centre (not its depth) within [min_range, max_range].
    """
    if min_range <= 0 and max_range == math.inf:
        return (depth > 0) & (depth < math.inf)  # NaN fails both comparisons
    norm = ray_lengths(intrinsics.scaled_to(depth.shape[-1], depth.shape[-2]), depth)
    # range = z * |ray|, so the range bounds become per-pixel depth bounds.
    lower = depth > 0 if min_range <= 0 else depth >= min_range / norm
    upper = depth < math.inf if max_range == math.inf else depth <= max_range / norm
    return lower & upper


def backproject(depth: torch.Tensor, intrinsics: Intrinsics) -> torch.Tensor:
    """... x H x W depth -> ... x 3 x H x W float32 points, NaN where the depth is invalid."""
    depth = depth.float()
    intrinsics = intrinsics.scaled_to(depth.shape[-1], depth.shape[-2])
    rx, ry = ray_grids(intrinsics, depth)
    z = torch.where(depth_validity(depth, intrinsics), depth, math.nan)
    return torch.stack([z * rx, z * ry, z], dim=-3)
