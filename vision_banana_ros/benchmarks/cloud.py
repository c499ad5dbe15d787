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

"""Time to build a PointCloud2 payload (x, y, z, rgb, label; sky dropped) from a 640x480 depth + RGB + labels frame.

    vision_banana bench --cloud

Every implementation ends in the same payload (`geometry.CloudPayload`: the points' bytes and field layout a
PointCloud2 is filled from), and their points are compared with ours. No ROS: filling the message is one copy of
the points' bytes, the same for every implementation.
  ours        geometry.build_cloud from numpy arrays (as the engine's results hold them), unorganized and organized
  numpy       a plain vectorised numpy structured array, field by field
  open3d      RGBDImage + PointCloud.create_from_rgbd_image, then packed into the same structured array
  per-point   a straightforward Python loop over the pixels with struct.pack
"""
from __future__ import annotations

import json
import math
import statistics
import struct
import time

import numpy as np

from ..geometry.cloud import build_cloud, CloudOptions, CloudPayload, point_fields, structured_dtype
from ..geometry.cloud import SKY_ID as SKY
from ..geometry.intrinsics import Intrinsics

WIDTH, HEIGHT = 640, 480
FIELDS = point_fields(('x', 'y', 'z', 'rgb', 'label'))
DTYPE = structured_dtype(FIELDS)


def _frame():
    """A street-like frame: ground plane below the horizon, a wall ahead, sky (+inf depth) above."""
    intrinsics = Intrinsics.from_fov(WIDTH, HEIGHT, 90.0)
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    ray_y = (v - intrinsics.cy) / intrinsics.fy
    ground = np.where(ray_y > 0, 1.5 / np.maximum(ray_y, 1e-9), np.inf)  # camera 1.5 m above the road
    wall = np.where((np.abs(u - WIDTH / 2) < WIDTH / 4) & (v > HEIGHT * 0.2), 25.0, np.inf)
    depth = np.minimum(ground, wall).astype(np.float32)
    labels = np.select([~np.isfinite(depth), wall < ground], [SKY, 2], 0).astype(np.uint8)
    depth[::37, ::41] = np.nan  # a few holes
    image = np.random.default_rng(0).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    return depth, image, labels, intrinsics


def _numpy(depth, image, labels, intr: Intrinsics) -> CloudPayload:
    v, u = np.indices(depth.shape)
    keep = np.isfinite(depth) & (depth > 0) & (labels != SKY)
    z = depth[keep]
    points = np.zeros(len(z), DTYPE)
    points['x'] = (u[keep] - intr.cx) * z / intr.fx
    points['y'] = (v[keep] - intr.cy) * z / intr.fy
    points['z'] = z
    rgb = image[keep].astype(np.uint32)
    points['rgb'] = ((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).view(np.float32)
    points['label'] = labels[keep]
    return CloudPayload(points[None], FIELDS, True)


def _open3d(o3d, o3d_intrinsics, depth, image, labels) -> CloudPayload:
    # open3d has no labels: sky goes as depth 0, which it skips like non-finite depths, in row-major order.
    masked = np.where(labels == SKY, np.float32(0), depth)
    rgbd = o3d.geometry.RGBDImage.create_from_color_and_depth(
        o3d.geometry.Image(image), o3d.geometry.Image(masked), depth_scale=1.0, depth_trunc=1e9,
        convert_rgb_to_intensity=False)
    cloud = o3d.geometry.PointCloud.create_from_rgbd_image(rgbd, o3d_intrinsics)
    xyz, colors = np.asarray(cloud.points), np.asarray(cloud.colors)
    points = np.zeros(len(xyz), DTYPE)
    points['x'], points['y'], points['z'] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    rgb = np.rint(colors * 255.0).astype(np.uint32)
    points['rgb'] = ((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]).view(np.float32)
    points['label'] = labels[np.isfinite(masked) & (masked > 0)]
    return CloudPayload(points[None], FIELDS, True)


def _per_point(depth, image, labels, intr: Intrinsics) -> CloudPayload:
    pack = struct.Struct('<ffffB3x').pack
    data = bytearray()
    for v in range(depth.shape[0]):
        for u in range(depth.shape[1]):
            z = float(depth[v, u])
            if not 0.0 < z < math.inf or labels[v, u] == SKY:
                continue
            r, g, b = image[v, u]
            rgb, = struct.unpack('<f', struct.pack('<I', (int(r) << 16) | (int(g) << 8) | int(b)))
            data += pack((u - intr.cx) * z / intr.fx, (v - intr.cy) * z / intr.fy, z, rgb, int(labels[v, u]))
    return CloudPayload(np.frombuffer(bytes(data), DTYPE)[None], FIELDS, True)


def _median_ms(fn, repeats: int) -> tuple[float, object]:
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, result


def main(args) -> int:
    """`bench --cloud`: time each point-cloud implementation on one frame and print the table."""
    import open3d as o3d

    depth, image, labels, intr = _frame()
    o3d_intrinsics = o3d.camera.PinholeCameraIntrinsic(WIDTH, HEIGHT, intr.fx, intr.fy, intr.cx, intr.cy)

    def ours(organized: bool = False):
        options = CloudOptions(organized=organized)
        return lambda: build_cloud(depth, intr, image=image, labels=labels, options=options)

    runs = [  # (key, name, function, repeats); the first is the reference
        ('cloud', 'ours, numpy arrays', ours(), 50),
        ('organized', 'ours, numpy arrays, organized', ours(organized=True), 50),
        ('numpy', 'numpy structured array', lambda: _numpy(depth, image, labels, intr), 20),
        ('open3d', 'open3d create_from_rgbd_image', lambda: _open3d(o3d, o3d_intrinsics, depth, image, labels), 20),
        ('per_point', 'per-point Python', lambda: _per_point(depth, image, labels, intr), 3),
    ]
    rows = []
    for key, name, fn, repeats in runs:
        ms, payload = _median_ms(fn, repeats)
        rows.append({'key': key, 'name': name, 'ms': ms, 'repeats': repeats, 'points': payload.points.reshape(-1)})
    reference = rows[0]['points']
    for row in rows:
        finite = row['points'][np.isfinite(row['points']['x'])]
        row['points'] = len(finite)
        same = len(finite) == len(reference) and np.array_equal(finite['label'], reference['label']) and \
            np.array_equal(finite['rgb'].view(np.uint32), reference['rgb'].view(np.uint32))
        row['max_xyz_diff_mm'] = (max(float(np.abs(finite[k] - reference[k]).max()) for k in 'xyz') * 1e3
                                  if same else math.nan)

    print(f'PointCloud2 payload (x, y, z, rgb, label; sky dropped) from a {WIDTH}x{HEIGHT} depth + RGB + labels '
          f'frame; median ms on the host CPU')
    print(f'{"implementation":34} {"ms":>9} {"x ours":>7} {"runs":>5} {"points":>7} {"max |dxyz| mm":>14}')
    for row in rows:
        print(f'{row["name"]:34} {row["ms"]:9.2f} {row["ms"] / rows[0]["ms"]:7.1f} {row["repeats"]:5d} '
              f'{row["points"]:7d} {row["max_xyz_diff_mm"]:14.4f}')
    result = {f'{row["key"]}_ms': round(row['ms'], 3) for row in rows}
    print(json.dumps(result | {'points': rows[0]['points']}))
    return 0
