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

"""Clouds to PLY or PCD files (open3d) for offline inspection: positions, uint8 colours, labels, normals."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .cloud import CloudPayload, NORMAL_NAMES

FORMATS = ('.ply', '.pcd')


def write_cloud(path: str | Path, payload: CloudPayload) -> Path:
    """Write the payload's valid points to `path` (.ply or .pcd, binary); labels go in a `label` property."""
    import open3d as o3d  # imported here: it takes a second, and only export needs it

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f'cloud file must end in {" or ".join(FORMATS)}, got {path.name!r}')
    points = payload.points.reshape(-1)
    xyz = np.stack([points['x'], points['y'], points['z']], axis=1)
    keep = np.isfinite(xyz).all(axis=1)
    if not keep.any():
        raise ValueError(f'{path}: the cloud has no valid point to write')
    points = points[keep]
    cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(xyz[keep]))
    names = points.dtype.names
    if 'rgb' in names:
        packed = points['rgb'].view(np.uint32)
        rgb = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1).astype(np.uint8)
        cloud.point.colors = o3d.core.Tensor(rgb)
    if 'label' in names:
        # PCL reads a PCD label only as uint32 (PointXYZL); open3d writes PLY properties of one byte or signed ints
        labels = points['label'].astype(np.uint32 if path.suffix.lower() == '.pcd' else np.uint8)
        cloud.point.label = o3d.core.Tensor(np.ascontiguousarray(labels)[:, None])
    if NORMAL_NAMES[0] in names:
        cloud.point.normals = o3d.core.Tensor(np.stack([points[n] for n in NORMAL_NAMES], axis=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    if not o3d.t.io.write_point_cloud(str(path), cloud):
        raise OSError(f'open3d could not write {path}')
    return path
