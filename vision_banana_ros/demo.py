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

"""`vision_banana demo` (what `make demo` runs): the sample drive through the procedural world as a bag, processed
offline by the embedded model through the same engine as the node.

Writes to OUT/: `sample_bag/` (input), `result_bag/` (mcap: inputs + every output topic; opens in Foxglove,
Lichtblick or `ros2 bag play`), `montage_NN.png` every few frames (input | semantic | depth | normals),
`accumulated_cloud.ply` (the clouds of the drive in the `world` frame, from /tf), `summary.json`; and prints the
summary: frames, frames/s, mean milliseconds per stage, mIoU and depth delta1 against the sample's ground truth.
"""
from __future__ import annotations

import json
from pathlib import Path
import shutil

import numpy as np
from PIL import Image

from .bag.io import open_reader
from .bag.messages import stamp_ns
from .bag.process import process_bag
from .bag.sample import make_sample
from .codecs import encode_depth_uint8
from .config import load_config_file
from .device import resolve_device
from .evaluation.metrics import DepthMetrics, SegmentationMetrics
from .geometry import build_cloud, CloudOptions, CloudPayload, Intrinsics, RigidTransform, write_cloud

DEMO_MARKER = '.vision_banana_demo'
MONTAGE_EVERY = 10
CLOUD_EVERY = 5


def _image(msg) -> np.ndarray:
    dtype, channels = {'rgb8': (np.uint8, 3), 'mono8': (np.uint8, 1), '32FC1': (np.float32, 1)}[msg.encoding]
    values = np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width, channels)
    return values[..., 0] if channels == 1 else values


def _by_stamp(bag: Path) -> dict[int, dict]:
    """Every message of the bag grouped by header stamp (for /tf, its transform), in stamp order."""
    frames: dict[int, dict] = {}
    reader = open_reader(bag)
    try:
        for connection, _, raw in reader.messages():
            msg = reader.deserialize(raw, connection.msgtype)
            if connection.topic == '/tf':
                for t in msg.transforms:
                    frames.setdefault(stamp_ns(t.header), {})['/tf'] = t.transform
            else:
                frames.setdefault(stamp_ns(msg.header), {})[connection.topic] = msg
    finally:
        reader.close()
    return dict(sorted(frames.items()))


def run_demo(out_dir: str | Path, frames: int = 30, size: tuple[int, int] = (640, 480)) -> int:
    """Run the demo into `out_dir`: a sample bag processed by the embedded model; return 0."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        # Only a previous demo's output is replaced, an interrupted one included: the marker is written first.
        if not (out / DEMO_MARKER).is_file():
            raise ValueError(f'{out} exists and is not an earlier demo output: give a new or empty folder')
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text('written by `vision_banana demo`, which replaces this folder on its next run\n')
    sample = make_sample(out / 'sample_bag', frames=frames, size=size)
    summary = process_bag(sample, out / 'result_bag')
    config = load_config_file(None)
    device = resolve_device(config.device)
    seg, depth_metrics = SegmentationMetrics(), DepthMetrics()
    clouds = []
    for i, topics in enumerate(_by_stamp(out / 'result_bag').values()):
        rgb, labels, depth = (_image(topics[f'/camera/{t}']) for t in ('image', 'semantic/labels', 'depth'))
        seg.update(labels, _image(topics['/camera/ground_truth/labels']))
        depth_metrics.update(depth, _image(topics['/camera/ground_truth/depth']))
        if i % MONTAGE_EVERY == 0:
            row = [rgb, _image(topics['/camera/semantic/color']), encode_depth_uint8(depth),
                   _image(topics['/camera/normals'])]
            Image.fromarray(np.concatenate(row, axis=1)).save(out / f'montage_{i:02d}.png')
        if i % CLOUD_EVERY == 0:
            info, pose = topics['/camera/depth/camera_info'], topics['/tf']
            intrinsics = Intrinsics(info.k[0], info.k[4], info.k[2], info.k[5], info.width, info.height)
            q, t = pose.rotation, pose.translation
            to_world = RigidTransform.from_translation_quaternion((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))
            clouds.append(build_cloud(depth, intrinsics, image=rgb, labels=labels, transform=to_world,
                                      options=CloudOptions(stride=2, max_range=config.cloud_max_range)))
    points = np.concatenate([c.points.reshape(-1) for c in clouds])[None]
    write_cloud(out / 'accumulated_cloud.ply', CloudPayload(points, clouds[0].fields, True))
    summary.update({'miou': round(seg.miou(), 4), 'delta1': round(depth_metrics.summary()['delta1'], 4),
                    'abs_rel': round(depth_metrics.summary()['abs_rel'], 4), 'cloud_points': int(points.size)})
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(f'\nvision_banana demo: {summary["frames"]} frames of a {size[0]}x{size[1]} drive through the procedural '
          f'world, processed by the embedded model on {"the CPU" if device.type == "cpu" else device}')
    print(f'  {summary["fps"]:.2f} frames/s; mean ms per frame: ' +
          ', '.join(f'{k} {v:.1f}' for k, v in summary['stage_ms_mean'].items()))
    print(f'  against ground truth: mIoU {summary["miou"]:.3f}, depth delta1 {summary["delta1"]:.3f}, '
          f'AbsRel {summary["abs_rel"]:.3f}')
    print(f'  wrote {out}/: result_bag/ (mcap), montage_*.png (input | semantic | depth | normals), '
          f'accumulated_cloud.ply ({summary["cloud_points"]} points), summary.json')
    return 0
