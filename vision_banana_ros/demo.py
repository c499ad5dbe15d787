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
Lichtblick or `ros2 bag play`), `montage_NN.png` every few frames (input | semantic | depth | normals) with
`grid_NN.png` beside it (the local occupancy grid: forward up, free white, occupied black, unknown grey),
`accumulated_cloud.ply` (the clouds of the drive in the `world` frame, from /tf, their depth ground-locked to the
mounting), `summary.json`; and prints the summary: frames, frames/s, mean milliseconds per stage, mIoU and depth
delta1 against the sample's ground truth, and delta1 with the depth ground-locked to the camera mounting (height and
tilt) that /tf gives, as the node locks with tf (the drive's road is the world's z = 0).
"""
from __future__ import annotations

import json
from pathlib import Path
import shutil
import sys

import numpy as np
from PIL import Image

from .bag.io import open_reader
from .bag.messages import stamp_ns
from .bag.process import process_bag
from .bag.sample import make_sample, WORLD_FRAME
from .bag.transforms import BagTransforms, read_transforms, TF_TOPICS
from .codecs import encode_depth_uint8
from .config import load_config_file
from .device import resolve_device
from .evaluation.metrics import DepthMetrics, SegmentationMetrics
from .geometry import build_cloud, CloudOptions, CloudPayload, Intrinsics, RigidTransform, write_cloud
from .geometry.ground import camera_mounting, GroundLock
from .geometry.navigation import FREE, navigation_masks, occupancy_grid, OCCUPIED
from .outputs import configured_ground_lock, level_floor

DEMO_MARKER = '.vision_banana_demo'
MONTAGE_EVERY = 10
CLOUD_EVERY = 5


def _image(msg) -> np.ndarray:
    dtype, channels = {'rgb8': (np.uint8, 3), 'mono8': (np.uint8, 1), '32FC1': (np.float32, 1),
                       '32FC3': (np.float32, 3)}[msg.encoding]
    values = np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width, channels)
    return values[..., 0] if channels == 1 else values


def _by_stamp(bag: Path) -> tuple[dict[int, dict], BagTransforms]:
    """The bag's image messages grouped by header stamp, in stamp order, and its tf."""
    frames: dict[int, dict] = {}
    reader = open_reader(bag)
    try:
        transforms = read_transforms(reader)
        for connection, _, raw in reader.messages():
            if connection.topic not in TF_TOPICS:
                msg = reader.deserialize(raw, connection.msgtype)
                frames.setdefault(stamp_ns(msg.header), {})[connection.topic] = msg
    finally:
        reader.close()
    return dict(sorted(frames.items())), transforms


class _Locks:
    """The drive's ground lock as the node runs it (its parameter defaults), and the grids from its answers and
    from the ground truth.
    """

    def __init__(self, config):
        self.config = config
        self.lock = configured_ground_lock(config)
        self.locked, self.free_iou, self.depth = 0, [], None

    def _grid(self, depth, labels, intrinsics, plane, scale, level=None):
        c = self.config
        masks = navigation_masks(depth, labels, intrinsics, plane, scale, c.ground_classes, c.obstacle_min_height,
                                 c.obstacle_max_height, level)
        return occupancy_grid(depth, intrinsics, plane, scale, masks, c.grid_resolution, c.grid_size_m).cells

    def update(self, depth, labels, normals, true_depth, true_labels, intrinsics, to_ground: RigidTransform):
        """Lock this frame's depth (kept in `depth`) to the camera mounting that `to_ground` (image frame to the
        road's) gives, as the node does with tf; returns its grid, or None when no plane holds.
        """
        height, up = camera_mounting(to_ground)
        state = self.lock.update(depth, labels, intrinsics, height, up, normals)
        self.locked += state.locked
        self.depth = depth * np.float32(state.scale)
        if not state.plane_holds:
            return None
        grid = self._grid(self.depth, labels, intrinsics, state.plane, state.scale,
                          level_floor(state, normals, self.config.level_floor_deg))
        truth = GroundLock(self.config.ground_classes, smoothing=0.0).update(true_depth, true_labels, intrinsics,
                                                                              height, up)
        if truth.plane_holds:
            true_grid = self._grid(true_depth, true_labels, intrinsics, truth.plane, 1.0)
            a, b = grid == FREE, true_grid == FREE
            self.free_iou.append((a & b).sum() / max(1, (a | b).sum()))
        return grid


def _grid_image(cells: np.ndarray) -> np.ndarray:
    """The grid as a grey image seen from above: forward up, the camera's left on the left."""
    image = np.full(cells.shape, 128, np.uint8)
    image[cells == FREE], image[cells == OCCUPIED] = 255, 0
    return image.T[::-1, ::-1]


def run_demo(out_dir: str | Path, frames: int = 30, size: tuple[int, int] = (640, 480)) -> int:
    """Run the demo into `out_dir`: a sample bag processed by the embedded model; return 0 (130 when a signal
    stopped it).
    """
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
    if summary.get('interrupted'):      # process_bag said where the partial bag is
        print(f'vision_banana demo: interrupted by {summary["interrupted"]}; run it again to start over',
              file=sys.stderr)
        return 130
    # the node's own lock is off in the demo's parameters (0 frames): the demo locks to the mounting below
    del summary['ground_locked']
    config = load_config_file(None)
    device = resolve_device(config.device)
    seg, depth_metrics, locked_metrics = SegmentationMetrics(), DepthMetrics(), DepthMetrics()
    lock = _Locks(config)
    clouds = []
    frames, transforms = _by_stamp(out / 'result_bag')
    for i, (stamp, topics) in enumerate(frames.items()):
        rgb, labels, depth, normals = (_image(topics[f'/camera/{t}'])
                                       for t in ('image', 'semantic/labels', 'depth', 'normals/raw'))
        true_labels, true_depth = (_image(topics[f'/camera/ground_truth/{t}']) for t in ('labels', 'depth'))
        seg.update(labels, true_labels)
        depth_metrics.update(depth, true_depth)
        info = topics['/camera/depth/camera_info']
        intrinsics = Intrinsics(info.k[0], info.k[4], info.k[2], info.k[5], info.width, info.height)
        to_world = transforms.lookup(WORLD_FRAME, info.header.frame_id, stamp)
        grid = lock.update(depth, labels, normals, true_depth, true_labels, intrinsics, to_world)
        locked_metrics.update(lock.depth, true_depth)
        if i % MONTAGE_EVERY == 0:
            row = [rgb, _image(topics['/camera/semantic/color']), encode_depth_uint8(depth),
                   _image(topics['/camera/normals'])]
            Image.fromarray(np.concatenate(row, axis=1)).save(out / f'montage_{i:02d}.png')
            if grid is not None:
                Image.fromarray(_grid_image(grid)).save(out / f'grid_{i:02d}.png')
        if i % CLOUD_EVERY == 0:
            # locked to the mounting, as the frames' scales then agree: unlocked, each frame's own scale error
            # would double walls and smear the road where the clouds overlap
            clouds.append(build_cloud(lock.depth, intrinsics, image=rgb, labels=labels, transform=to_world,
                                      options=CloudOptions(stride=2, max_range=config.cloud_max_range)))
    points = np.concatenate([c.points.reshape(-1) for c in clouds])[None]
    write_cloud(out / 'accumulated_cloud.ply', CloudPayload(points, clouds[0].fields, True))
    depth_summary = depth_metrics.summary()
    summary.update({'miou': round(seg.miou(), 4), 'delta1': round(depth_summary['delta1'], 4),
                    'abs_rel': round(depth_summary['abs_rel'], 4), 'cloud_points': int(points.size),
                    'delta1_median_scaled': round(depth_summary['delta1_median_scaled'], 4),
                    'delta1_ground_locked': round(locked_metrics.summary()['delta1'], 4),
                    'ground_locked_frames': lock.locked,
                    'grid_free_iou': round(float(np.mean(lock.free_iou)), 4) if lock.free_iou else None})
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(f'\nvision_banana demo: {summary["frames"]} frames of a {size[0]}x{size[1]} drive through the procedural '
          f'world, processed by the embedded model on {"the CPU" if device.type == "cpu" else device}')
    print(f'  {summary["fps"]:.2f} frames/s; mean ms per frame: ' +
          ', '.join(f'{k} {v:.1f}' for k, v in summary['stage_ms_mean'].items()))
    print(f'  against ground truth: mIoU {summary["miou"]:.3f}, depth delta1 {summary["delta1"]:.3f}, '
          f'AbsRel {summary["abs_rel"]:.3f} (delta1 scaled to the true median per frame: '
          f'{summary["delta1_median_scaled"]:.3f})')
    print(f'  ground-locked to the camera mounting from /tf ({lock.locked} of {summary["frames"]} frames locked): '
          f'depth delta1 {summary["delta1_ground_locked"]:.3f}; occupancy grid free cells against the ground '
          f'truth\'s: IoU {summary["grid_free_iou"]}')
    print(f'  wrote {out}/: result_bag/ (mcap), montage_*.png (input | semantic | depth | normals), grid_*.png, '
          f'accumulated_cloud.ply ({summary["cloud_points"]} points), summary.json')
    return 0
