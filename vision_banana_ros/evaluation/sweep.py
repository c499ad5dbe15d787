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

"""`vision_banana sweep`: metric depth over a grid of camera poses, as a robot's mounting would vary it.

Each cell (camera height x pitch x field of view) renders the same world frames (same seeds, so the cells differ
only by the camera) with that pose fixed, runs them through the engine with their intrinsics, and scores depth
(delta1, AbsRel) against the exact ground truth. The table shows where a model's metric scale holds and where it
breaks: low cameras, steep pitches, wide or narrow lenses.

With `ground_lock` each cell also scores the depth ground-locked to the camera's true height (as the node's
`scale_lock: ground` does with `camera_height_m`, each frame on its own), ground-locked to the camera's true
mounting (height and tilt to the ground, as the node does with tf) and, for reference, scaled per frame to the true
median depth (an oracle no robot has).
"""
from __future__ import annotations

import itertools

import numpy as np
from tqdm import tqdm

from .metrics import DepthMetrics
from .run import camera_of, ground_up
from ..engine import BatchRunner, FrameRequest
from ..geometry.ground import GroundLock, LEVEL_FLOOR_DEG
from ..world import frame_seed, render_frame


def pose_sweep(backend, heights, pitches, fovs, frames: int = 4, seed: int = 0, size=(320, 240),
               preset: str = 'street', progress: bool = False, ground_lock: bool = False,
               level_floor_deg: float = LEVEL_FLOOR_DEG) -> list[dict]:
    """One row per cell: height_m, pitch_deg, fov_deg, frames, delta1, abs_rel; with `ground_lock` also
    delta1_locked, frames_locked, delta1_locked_mounting, frames_locked_mounting and delta1_median_scaled. The
    lock to the mounting finds the floor by the predicted normals as the node's `level_floor_deg` does (0: off).
    """
    tasks = ('segmentation', 'depth') + (('normals',) if level_floor_deg and 'normals' in backend.tasks else ())
    runner = BatchRunner(backend, tasks if ground_lock else ('depth',))
    cells = list(itertools.product(fovs, heights, pitches))
    rows = []
    for fov, height, pitch in tqdm(cells, disable=not progress, unit='cell', desc='sweep'):
        samples = [render_frame(frame_seed(seed, i), *size, preset=preset, fov_deg=fov, height_m=height,
                                pitch_deg=pitch) for i in range(frames)]
        metrics, locked, mounted = DepthMetrics(), DepthMetrics(), DepthMetrics()
        results = runner.run([FrameRequest('sweep', s.rgb, intrinsics=camera_of(s)) for s in samples])
        frames_locked = frames_mounted = 0
        for sample, result in zip(samples, results):
            metrics.update(result.depth, sample.depth)
            if ground_lock:
                # above the ground it stands on (a camera on the sidewalk stands a kerb above the road)
                standing = sample.camera['ground_z'] + sample.camera['height_m']
                state = GroundLock(smoothing=0.0).update(result.depth, result.labels, result.intrinsics, standing)
                frames_locked += state.locked
                locked.update(result.depth * np.float32(state.scale), sample.depth)
                mounted_lock = GroundLock(smoothing=0.0, level_floor_deg=level_floor_deg)
                state = mounted_lock.update(result.depth, result.labels, result.intrinsics, standing,
                                            ground_up(sample.camera), result.normals)
                frames_mounted += state.locked
                mounted.update(result.depth * np.float32(state.scale), sample.depth)
        summary = metrics.summary()
        row = {'height_m': height, 'pitch_deg': pitch, 'fov_deg': fov, 'frames': frames,
               'delta1': summary['delta1'], 'abs_rel': summary['abs_rel']}
        if ground_lock:
            row.update(delta1_locked=locked.summary()['delta1'], frames_locked=frames_locked,
                       delta1_locked_mounting=mounted.summary()['delta1'], frames_locked_mounting=frames_mounted,
                       delta1_median_scaled=summary['delta1_median_scaled'])
        rows.append(row)
    return rows


TABLES = {'delta1': 'delta1', 'delta1_locked': 'delta1 ground-locked to the true camera height',
          'delta1_locked_mounting': 'delta1 ground-locked to the true camera height and tilt (the mounting tf '
                                    'gives)',
          'delta1_median_scaled': 'delta1 scaled per frame to the true median (oracle)'}


def format_sweep(rows: list[dict]) -> str:
    """delta1 per cell: one table per field of view (and per kind of scale, with the ground lock), heights
    down, pitches across.
    """
    out = []
    for fov in dict.fromkeys(r['fov_deg'] for r in rows):
        mine = [r for r in rows if r['fov_deg'] == fov]
        pitches = list(dict.fromkeys(r['pitch_deg'] for r in mine))
        for key in (k for k in TABLES if k in mine[0]):
            out.append(f'{TABLES[key]}, horizontal field of view {fov:g} deg (rows: camera height m; columns: '
                       'pitch deg)')
            out.append(f'{"":>8}' + ''.join(f'{p:>8g}' for p in pitches))
            for height in dict.fromkeys(r['height_m'] for r in mine):
                cells = {r['pitch_deg']: r[key] for r in mine if r['height_m'] == height}
                out.append(f'{height:>8g}' + ''.join(f'{cells[p]:>8.2f}' for p in pitches))
            out.append('')
    worst = min(rows, key=lambda r: r['delta1'])
    out.append(f'worst cell: delta1 {worst["delta1"]:.2f} at height {worst["height_m"]:g} m, pitch '
               f'{worst["pitch_deg"]:g} deg, field of view {worst["fov_deg"]:g} deg')
    return '\n'.join(out)
