"""Time to build a PointCloud2 (x, y, z, rgb, label; sky dropped) from a 640x480 depth + RGB + labels frame.

    vision_banana bench --cloud [--device auto|cpu|cuda]

Every implementation ends in the same sensor_msgs/PointCloud2 message, and their points are compared with ours:
  ours        geometry.build_cloud + ros.messages.to_point_cloud2, from numpy arrays on the CPU (and from
              torch tensors on the CPU), from tensors on the device otherwise
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
import torch

from ..geometry.cloud import SKY_ID as SKY
from ..geometry.cloud import CloudOptions, CloudPayload, build_cloud, point_fields, structured_dtype
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
    import open3d as o3d
    from std_msgs.msg import Header

    from ..device import resolve_device
    from ..ros.messages import to_point_cloud2

    device = resolve_device(args.device)
    depth, image, labels, intr = _frame()
    header = Header(frame_id='camera_optical_frame')
    o3d_intrinsics = o3d.camera.PinholeCameraIntrinsic(WIDTH, HEIGHT, intr.fx, intr.fy, intr.cx, intr.cy)
    # Tensors the way the engine holds them on a device: image channel-first.
    tensors = (torch.from_numpy(depth).to(device), torch.from_numpy(image).permute(2, 0, 1).to(device),
               torch.from_numpy(labels).to(device))

    def ours(inputs, organized: bool = False):
        options = CloudOptions(organized=organized)
        return lambda: to_point_cloud2(build_cloud(inputs[0], intr, image=inputs[1], labels=inputs[2],
                                                   options=options), header)

    ours_inputs, ours_name = ((depth, image, labels), 'numpy arrays') if device.type == 'cpu' else \
        (tensors, f'torch on {device}')
    runs = [  # (key, name, function, repeats); the first is the reference
        ('cloud', f'ours, {ours_name}', ours(ours_inputs), 50),
        ('organized', f'ours, {ours_name}, organized', ours(ours_inputs, organized=True), 50),
        ('numpy', 'numpy structured array', lambda: to_point_cloud2(_numpy(depth, image, labels, intr), header), 20),
        ('open3d', 'open3d create_from_rgbd_image', lambda: to_point_cloud2(
            _open3d(o3d, o3d_intrinsics, depth, image, labels), header), 20),
        ('per_point', 'per-point Python', lambda: to_point_cloud2(_per_point(depth, image, labels, intr), header), 3),
    ]
    if device.type == 'cpu':
        runs.insert(2, ('torch_cpu', 'ours, torch tensors on cpu', ours(tensors), 50))
    rows = []
    for key, name, fn, repeats in runs:
        ms, msg = _median_ms(fn, repeats)
        rows.append({'key': key, 'name': name, 'ms': ms, 'repeats': repeats, 'points': np.frombuffer(msg.data, DTYPE)})
    reference = rows[0]['points']
    for row in rows:
        finite = row['points'][np.isfinite(row['points']['x'])]
        row['points'] = len(finite)
        same = len(finite) == len(reference) and np.array_equal(finite['label'], reference['label']) and \
            np.array_equal(finite['rgb'].view(np.uint32), reference['rgb'].view(np.uint32))
        row['max_xyz_diff_mm'] = (max(float(np.abs(finite[k] - reference[k]).max()) for k in 'xyz') * 1e3
                                  if same else math.nan)

    gpu = f' ({torch.cuda.get_device_name(device)})' if device.type == 'cuda' else ''
    print(f'PointCloud2 (x, y, z, rgb, label; sky dropped) from a {WIDTH}x{HEIGHT} depth + RGB + labels frame, '
          f'message included; median ms; device {device}{gpu}; torch threads {torch.get_num_threads()}')
    print(f'{"implementation":34} {"ms":>9} {"x ours":>7} {"runs":>5} {"points":>7} {"max |dxyz| mm":>14}')
    for row in rows:
        print(f'{row["name"]:34} {row["ms"]:9.2f} {row["ms"] / rows[0]["ms"]:7.1f} {row["repeats"]:5d} '
              f'{row["points"]:7d} {row["max_xyz_diff_mm"]:14.4f}')
    result = {f'{row["key"]}_ms': round(row['ms'], 3) for row in rows}
    print(json.dumps(result | {'device': str(device), 'points': rows[0]['points']}))
    return 0
