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

"""Filters of unorganized clouds held as n x k float32 point rows (one 4-byte slot per field, see cloud.py)."""
from __future__ import annotations

import math
from typing import Sequence

import torch

from ..codecs.palette import IGNORE_ID
from ..torch_ops import norm

# Voxel keys are packed into one int64; this bounds the number of voxels the cloud's bounding box may span.
_MAX_VOXELS = 2 ** 62


def voxel_downsample(points: torch.Tensor, names: Sequence[str], voxel_size: float) -> torch.Tensor:
    """One point per occupied voxel: mean position, mean colour, most frequent label (the smallest id among
    equally frequent ones), mean normal renormalised. Rows come out in voxel order.
    """
    if len(points) == 0:
        return points
    cells = torch.floor(points[:, :3].double() / voxel_size).long()
    cells -= cells.min(dim=0).values
    extent = cells.max(dim=0).values + 1
    if math.prod(extent.tolist()) >= _MAX_VOXELS:
        raise ValueError(f'voxel_size {voxel_size} m is too small for a cloud spanning {extent.tolist()} voxels')
    key = (cells[:, 0] * extent[1] + cells[:, 1]) * extent[2] + cells[:, 2]
    _, voxel, counts = torch.unique(key, return_inverse=True, return_counts=True)
    n_voxels = len(counts)

    def mean(values: torch.Tensor) -> torch.Tensor:
        # float64 sums: thousands of points far from the origin would lose millimetres in float32.
        sums = torch.zeros((n_voxels, values.shape[1]), dtype=torch.float64, device=values.device)
        return sums.index_add_(0, voxel, values.double()) / counts[:, None]

    out = points.new_empty((n_voxels, points.shape[1]))
    out[:, :3] = mean(points[:, :3])
    rows, out_rows = points.view(torch.int32), out.view(torch.int32)
    if 'rgb' in names:
        i = names.index('rgb')
        packed = rows[:, i]
        channels = torch.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], dim=1)
        red, green, blue = mean(channels).round().int().unbind(1)
        out_rows[:, i] = (red << 16) | (green << 8) | blue
    if 'label' in names:
        i = names.index('label')
        out_rows[:, i] = _most_frequent(voxel, rows[:, i].long(), n_voxels).int()
    if 'normal_x' in names:
        i = names.index('normal_x')
        summed = mean(torch.nan_to_num(points[:, i:i + 3], nan=0.0))
        length = norm(summed, dim=1, keepdim=True)
        out[:, i:i + 3] = torch.where(length > 0, summed / length, math.nan)
    return out


def _most_frequent(groups: torch.Tensor, labels: torch.Tensor, n_groups: int) -> torch.Tensor:
    pairs, pair_counts = torch.unique(groups * 256 + labels, return_counts=True)
    group, label = pairs // 256, pairs % 256
    best = torch.zeros(n_groups, dtype=torch.long, device=labels.device).scatter_reduce_(0, group, pair_counts, 'amax')
    winners = pair_counts == best[group]
    return torch.full((n_groups,), IGNORE_ID, dtype=torch.long, device=labels.device).scatter_reduce_(
        0, group[winners], label[winners], 'amin')


def remove_statistical_outliers(points: torch.Tensor, neighbors: int, std_ratio: float) -> torch.Tensor:
    """Drop rows whose mean distance to their `neighbors` nearest points exceeds the cloud's mean of that
    distance by more than `std_ratio` standard deviations (open3d; rows on the host).
    """
    import open3d as o3d  # imported here: it takes a second, and only this filter needs it

    if len(points) <= neighbors:
        return points
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points[:, :3].double().cpu().numpy()))
    _, kept = cloud.remove_statistical_outlier(nb_neighbors=neighbors, std_ratio=std_ratio)
    return points[torch.as_tensor(kept, dtype=torch.long, device=points.device)]
