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

"""`vision_banana bag make-sample OUT`: a short drive through the procedural world as a rosbag2, so the demo and the
tests need no download: /camera/image (rgb8) and /camera/camera_info at 10 Hz, plus ground truth
(/camera/ground_truth/labels mono8, /camera/ground_truth/depth 32FC1) unless switched off, and /tf with the camera's
pose in the `world` frame (x across the street, y along it, z up), so clouds can be accumulated. With several
streets (`scenes`), each is a world of its own: the pose starts again at each.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
import shutil

import numpy as np
from tqdm import tqdm
from transforms3d.quaternions import mat2quat

from . import messages
from .io import open_writer
from ..geometry import Intrinsics
from ..outputs import DepthCameraInfo
from ..world.render import render, Sensor
from ..world.scene import generate

NAMESPACE = '/camera'
FRAME_ID = 'camera_optical_frame'
WORLD_FRAME = 'world'
START_NS = 1_750_000_000 * 10**9   # a fixed start: the same sample bag every time
DRIVE_M = 3.5                       # scenes keep 4 m ahead of the camera clear, so the drive stays inside that


def _check_scenes(scenes: int, frames: int) -> None:
    if not 1 <= scenes <= frames:
        raise ValueError(f'scenes must lie in 1..frames ({frames}), got {scenes}')


def drive_frames(seed: int, count: int, width: int, height: int, scenes: int = 1):
    """(frame, camera) pairs of `scenes` streets in turn, each seen from a camera moving straight ahead by DRIVE_M
    in total over its share of the `count` frames (the first street is the same for any number of streets).
    """
    _check_scenes(scenes, count)
    for leg, frames in enumerate(np.diff(np.linspace(0, count, scenes + 1).round().astype(int))):
        rng = np.random.default_rng(seed if leg == 0 else [seed, leg])
        scene, camera = generate(rng, width, height, yaw_deg=0.0, roll_deg=0.0)
        sensor = Sensor.random(rng)
        for i in range(frames):
            moved = dataclasses.replace(camera, y_m=DRIVE_M * i / max(1, frames - 1))
            yield render(scene, moved, sensor), moved


def _tf(camera, msg_header):
    t = messages.T
    w, x, y, z = mat2quat(camera.rotation)
    transform = t['geometry_msgs/msg/Transform'](
        translation=t['geometry_msgs/msg/Vector3'](x=float(camera.position[0]), y=float(camera.position[1]),
                                                   z=float(camera.position[2])),
        rotation=t['geometry_msgs/msg/Quaternion'](x=float(x), y=float(y), z=float(z), w=float(w)))
    stamped = t['geometry_msgs/msg/TransformStamped'](
        header=messages.with_frame(msg_header, WORLD_FRAME), child_frame_id=FRAME_ID, transform=transform)
    return t['tf2_msgs/msg/TFMessage'](transforms=[stamped])


def make_sample(out: str | Path, frames: int = 30, rate_hz: float = 10.0, size: tuple[int, int] = (640, 480),
                seed: int = 7, ground_truth: bool = True, storage: str = 'mcap', progress: bool = True,
                scenes: int = 1) -> Path:
    """Write a bag of `frames` rendered street frames at `rate_hz` (with ground truth) through `scenes` streets
    to `out`.
    """
    out = Path(out)
    if frames < 1 or rate_hz <= 0:
        raise ValueError('need frames >= 1 and rate_hz > 0')
    _check_scenes(scenes, frames)
    width, height = size
    period_ns = int(round(1e9 / rate_hz))
    writer = open_writer(out, storage)
    try:
        _write_drive(writer, frames, period_ns, width, height, seed, ground_truth, progress, scenes)
    except BaseException:   # an error or Ctrl-C part way: no half bag left to block the next run
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def _write_drive(writer, frames, period_ns, width, height, seed, ground_truth, progress, scenes) -> None:
    with writer:
        topics = [('image', messages.IMAGE), ('camera_info', messages.CAMERA_INFO)]
        if ground_truth:
            topics += [('ground_truth/labels', messages.IMAGE), ('ground_truth/depth', messages.IMAGE)]
        conn = {name: writer.add_connection(f'{NAMESPACE}/{name}', msgtype, typestore=messages.TYPESTORE)
                for name, msgtype in topics}
        tf_conn = writer.add_connection('/tf', messages.TF, typestore=messages.TYPESTORE)
        for i, (frame, camera) in enumerate(tqdm(drive_frames(seed, frames, width, height, scenes), total=frames,
                                                 unit='frame', desc='sample drive', disable=not progress)):
            t = START_NS + i * period_ns
            header = messages.header(t, FRAME_ID)
            k = frame.intrinsics
            intrinsics = Intrinsics(k['fx'], k['fy'], k['cx'], k['cy'], width, height)
            writes = [('camera_info', messages.CAMERA_INFO, messages.camera_info(DepthCameraInfo(intrinsics), header)),
                      ('image', messages.IMAGE, messages.image(frame.rgb, header))]
            if ground_truth:
                depth = np.where(np.isfinite(frame.depth), frame.depth, np.inf).astype(np.float32)
                writes += [('ground_truth/labels', messages.IMAGE, messages.image(frame.labels, header)),
                           ('ground_truth/depth', messages.IMAGE, messages.image(depth, header))]
            for name, msgtype, msg in writes:
                writer.write(conn[name], t, messages.serialize(msg, msgtype))
            writer.write(tf_conn, t, messages.serialize(_tf(camera, header), messages.TF))
