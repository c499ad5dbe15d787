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

"""`vision_banana eval`: run a backend over a data set directory and report every metric."""
from __future__ import annotations

import json
import math

from tqdm import tqdm

from .metrics import DepthMetrics, NormalMetrics, SegmentationMetrics
from ..engine import BatchRunner, FrameRequest
from ..engine.upright import upright_turn
from ..geometry.ground import GroundPlane
from ..geometry.intrinsics import Intrinsics
from ..tasks import TASKS
from ..world.presets import camera_pose

# How a result is broken down where samples say it: the kind of place they show (`scene`, as the world's renders
# do) and whether their camera was upright or turned freely (the world's camera parameters).
GROUPS = {'by_scene': lambda sample: getattr(sample, 'scene', None),
          'by_pose': lambda sample: camera_pose(getattr(sample, 'camera', None) or {})}


class _Scores:
    """The metrics of one set of frames, accumulated frame by frame."""

    def __init__(self):
        self.seg, self.depth, self.normals, self.frames = SegmentationMetrics(), DepthMetrics(), NormalMetrics(), 0

    def update(self, result, sample) -> None:
        self.frames += 1
        if result.labels is not None:
            self.seg.update(result.labels, sample.labels)
        if result.depth is not None:
            self.depth.update(result.depth, sample.depth)
        if result.normals is not None:
            self.normals.update(result.normals, sample.normals)

    def summary(self) -> dict:
        n = self.normals.summary()
        return {'frames': self.frames, 'miou': self.seg.miou(), 'pixel_accuracy': self.seg.pixel_accuracy(),
                'per_class_iou': self.seg.per_class_iou(), **self.depth.summary(),
                'normals_mean_deg': n['mean_deg'], 'normals_median_deg': n['median_deg'],
                'normals_within_11_25': n['within_11_25'], 'normals_within_22_5': n['within_22_5'],
                'normals_within_30': n['within_30']}


def evaluate(backend, samples, batch_size: int = 4, progress: bool = False, intrinsics: bool = True,
             upright_min_roll_deg: float | None = None) -> dict:
    """samples: iterable of objects with rgb, labels, depth, normals arrays (one data set frame each), run
    through the engine's batch path at the processing size the backend gives their size (`size_for`) with the
    sample's intrinsics where it has them and `intrinsics` is true (camera-aware depth needs them), results compared
    at the sample's size.
    Only the tasks the backend answers are run (a single-task expert is scored on its task); the metrics of the
    others, and of a task with no valid ground truth in the set, are NaN. Where samples say what kind of place
    they show, 'by_scene' holds the same metrics for each kind, and where they give their camera's angles,
    'by_pose' for upright and turned cameras (GROUPS). With `upright_min_roll_deg`, frames whose camera angles are
    known and rolled at least that much are turned upright for the backend, as the node's `upright` does with the
    mounting from tf (`camera_turn`). No samples: ValueError.
    """
    if batch_size < 1:
        raise ValueError(f'batch size must be at least 1, got {batch_size}')
    runner = BatchRunner(backend, tuple(t for t in TASKS if t in backend.tasks))
    whole, parts = _Scores(), {key: {} for key in GROUPS}

    def flush(batch):
        requests = [FrameRequest('eval', s.rgb, intrinsics=camera_of(s) if intrinsics else None,
                                 turn_deg=camera_turn(s, upright_min_roll_deg)) for s in batch]
        for sample, result in zip(batch, runner.run(requests)):
            whole.update(result, sample)
            for key, group_of in GROUPS.items():
                if group := group_of(sample):
                    parts[key].setdefault(group, _Scores()).update(result, sample)

    batch = []
    for sample in tqdm(samples, disable=not progress, unit='frame', desc='eval'):
        if len(batch) == batch_size:
            flush(batch)
            batch = []
        batch.append(sample)
    if batch:
        flush(batch)
    if not whole.frames:
        raise ValueError('no samples to evaluate')
    result = whole.summary()
    for key, groups in parts.items():
        if groups:
            result[key] = {group: groups[group].summary() for group in sorted(groups)}
    return result


def camera_turn(sample, upright_min_roll_deg: float | None) -> float:
    """How far the node's `upright` would turn a sample's image, from its camera's pitch and roll (the world's
    camera/<name>.json); 0 where `upright_min_roll_deg` is None or the angles are not known.
    """
    camera = getattr(sample, 'camera', None) or {}
    if upright_min_roll_deg is None or 'pitch_deg' not in camera or 'roll_deg' not in camera:
        return 0.0
    return upright_turn(ground_up(camera), upright_min_roll_deg)


def ground_up(camera: dict) -> tuple[float, float, float]:
    """The up direction in a world camera's optical frame: the ground's where it is flat, as on the street
    preset's roads.
    """
    return GroundPlane.up_of(camera['pitch_deg'], camera['roll_deg'])


def camera_of(sample) -> Intrinsics | None:
    """A data set sample's intrinsics (its intrinsics/<name>.json), or None where it has none."""
    if not getattr(sample, 'intrinsics', None):
        return None
    height, width = sample.rgb.shape[:2]
    i = sample.intrinsics
    return Intrinsics(i['fx'], i['fy'], i['cx'], i['cy'], width, height)


def format_report(result: dict) -> str:
    """The evaluation result as the lines `vision_banana evaluate` prints."""
    lines = [f'frames {result["frames"]}',
             f'segmentation  mIoU {result["miou"]:.3f}  pixel accuracy {result["pixel_accuracy"]:.3f}',
             '  ' + '  '.join(f'{k} {v:.2f}' for k, v in result['per_class_iou'].items()),
             f'depth         delta1 {result["delta1"]:.3f}  delta2 {result["delta2"]:.3f}  '
             f'delta3 {result["delta3"]:.3f}  AbsRel {result["abs_rel"]:.3f}  RMSE {result["rmse"]:.2f} m  '
             f'(delta1 scaled to the true median per frame {result["delta1_median_scaled"]:.3f})',
             f'normals       mean {result["normals_mean_deg"]:.1f} deg  median {result["normals_median_deg"]:.1f} deg  '
             f'<11.25 {result["normals_within_11_25"]:.1%}  <22.5 {result["normals_within_22_5"]:.1%}  '
             f'<30 {result["normals_within_30"]:.1%}']
    for key, title in (('by_scene', 'by kind of place'), ('by_pose', 'by camera pose')):
        if key in result:
            lines.append(title)
        for group, part in result.get(key, {}).items():
            lines.append(f'  {group:<10} {part["frames"]:4d} frames  mIoU {part["miou"]:.3f}  '
                         f'delta1 {part["delta1"]:.3f} (scaled {part["delta1_median_scaled"]:.3f})  '
                         f'AbsRel {part["abs_rel"]:.3f}  normals {part["normals_mean_deg"]:.1f} deg')
    return '\n'.join(lines)


def to_json(result: dict) -> str:
    """One JSON object; a metric that could not be measured (NaN) is null, as JSON has no NaN."""
    def finite(v):
        if isinstance(v, dict):
            return {k: finite(x) for k, x in v.items()}
        return None if isinstance(v, float) and not math.isfinite(v) else v
    return json.dumps(finite(result), allow_nan=False)
