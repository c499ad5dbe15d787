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

"""The teachers' answers for the frames of some bags, labelled once and kept on disk.

A cache folder holds the frames at the student's size in the data set format (`world.dataset`: rgb/, labels/ the
teachers' most likely class, depth/ metres, normals/, intrinsics/ (the camera as the node takes it), camera/ the bag,
camera namespace and stamp), soft/<name>.npy (the teachers' top train ids and probabilities, `teachers.SOFT_K`
each) and manifest.json. Its name is a hash of everything that decides its content (bags, topics, subsampling,
size, teachers and their weights), so another choice never reads it, and a re-run or a longer training never runs
the teachers again. Frames are written one by one and soft/ last: an interrupted labelling goes on where it stopped.
"""
from __future__ import annotations

from collections import Counter
import hashlib
import json
from pathlib import Path
import sys
import time
from types import SimpleNamespace

import numpy as np
from tqdm import tqdm

from .teachers import fingerprint, Labelled, SOFT_K, Teachers
from ..bag.frames import camera_frames
from ..codecs.palette import CITYSCAPES
from ..parameters import BY_NAME
from ..world.dataset import load_sample, PARTS, save_sample
from ..world.render import Frame

VERSION = 2     # 2: every frame has a camera, as the node gives it
SKY = CITYSCAPES.names.index('sky')


def _bag_identity(bag: str | Path) -> dict:
    path = Path(bag).resolve()
    if not path.exists():
        raise ValueError(f'bag {bag} does not exist')
    files = sorted(p for p in ([path] if path.is_file() else path.rglob('*')) if p.is_file())
    return {'path': str(path), 'bytes': sum(f.stat().st_size for f in files),
            'modified_ns': max((f.stat().st_mtime_ns for f in files), default=0)}


def cache_key(bags, image_topics, depth_topics, min_interval_s, min_change, size, teachers: list[dict]) -> dict:
    """Everything that decides a cache's content."""
    return {'version': VERSION, 'bags': [_bag_identity(b) for b in bags], 'image_topics': image_topics or None,
            'depth_topics': depth_topics or None, 'min_interval_s': min_interval_s, 'min_change': min_change,
            'size': list(size), 'teachers': [{**t, 'weights': fingerprint(t['model'])} for t in teachers]}


def cache_folder(root: Path, key: dict) -> Path:
    """The cache of `key` under `root`."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return root / f'cache-{digest}'


def _save(folder: Path, name: str, frame, labelled: Labelled) -> None:
    intrinsics = None if labelled.intrinsics is None else {
        k: float(getattr(labelled.intrinsics, k)) for k in ('fx', 'fy', 'cx', 'cy')}
    camera = {'bag': frame.bag, 'camera': frame.camera, 'stamp_ns': frame.stamp_ns}
    save_sample(folder, name, Frame(labelled.rgb, labelled.labels, labelled.depth, labelled.normals, intrinsics,
                                    camera))
    np.save(folder / 'soft' / f'{name}.npy', labelled.soft)    # last: the frame is complete


def label_bags(folder: Path, key: dict, teacher_args: dict, batch: int = 4, progress: bool = True) -> dict:
    """Label the kept frames of the bags in `key` with the teachers into `folder` (what is there already is kept)
    and return the manifest: the frames (name, bag, camera, stamp_ns), reading counts and the teachers' frames/s.
    """
    manifest_file = folder / 'manifest.json'
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        if manifest.get('complete') and manifest.get('key') == key:
            return manifest
    for part in (*PARTS, 'soft'):
        (folder / part).mkdir(parents=True, exist_ok=True)
    size = tuple(key['size'])
    stats: Counter = Counter()
    # each frame's camera as the node takes it with its default parameters (raw images: K; without CameraInfo the
    # fallback field of view), so that the student, run by the node, gives the teachers' metres
    frames = camera_frames([b['path'] for b in key['bags']], key['image_topics'], key['depth_topics'],
                           key['min_interval_s'], key['min_change'], stats, rectified=BY_NAME['rectified'].default,
                           fallback_hfov_deg=BY_NAME['fallback_hfov_deg'].default)
    teachers, listed, pending = None, [], []
    labelled_count, teacher_seconds = 0, 0.0
    bar = tqdm(unit='frame', desc=f'teachers label {folder.name}', disable=not progress)

    def flush():
        nonlocal teachers, labelled_count, teacher_seconds
        if teachers is None:    # loaded only when some frame is not labelled yet
            teachers = Teachers(**teacher_args)
        started = time.perf_counter()
        answers = teachers.label([f.rgb for _, f in pending], [f.intrinsics for _, f in pending],
                                 [f.depth for _, f in pending], size)
        teacher_seconds += time.perf_counter() - started
        for (name, frame), labelled in zip(pending, answers):
            _save(folder, name, frame, labelled)
        labelled_count += len(pending)
        bar.update(len(pending))
        pending.clear()

    for frame in frames:
        name = f'{len(listed):06d}'
        listed.append({'name': name, 'bag': frame.bag, 'camera': frame.camera, 'stamp_ns': frame.stamp_ns})
        if (folder / 'soft' / f'{name}.npy').exists():
            bar.update()
            continue
        if pending and (len(pending) == batch or pending[0][1].rgb.shape != frame.rgb.shape):
            flush()
        pending.append((name, frame))
    if pending:
        flush()
    bar.close()
    if not listed:
        raise ValueError(f'no usable camera frames in {", ".join(b["path"] for b in key["bags"])} '
                         f'({dict(stats) or "no image messages"})')
    for what, count in sorted(stats.items()):
        if what.startswith(('unreadable', 'undecodable', 'read error')):
            print(f'vision_banana distill: {count} {what} skipped', file=sys.stderr)
    manifest = {'key': key, 'complete': True, 'frames': listed, 'counts': dict(stats),
                'teacher_fps': round(labelled_count / teacher_seconds, 2) if teacher_seconds else None}
    manifest_file.write_text(json.dumps(manifest, indent=1))
    return manifest


def load_labelled(folder: Path, name: str):
    """One cached frame as a training sample (a world Frame's fields plus `soft`). Where the teachers' labels say
    sky the depth is +inf (REP 118: too far, no return), as in the world's ground truth and the palette's white:
    a depth teacher's answer there is no distance (the unified model's near-white reads thousands of metres, an
    outdoor expert saturates at its range), and neither the student nor its agreement score should take it as one;
    its normals there (derived from that depth) go too, so sky is taught as the world teaches it.
    """
    frame = load_sample(folder, name)
    soft = np.load(folder / 'soft' / f'{name}.npy')
    if soft.shape != (*frame.labels.shape, 2 * SOFT_K):
        raise ValueError(f'{folder}/soft/{name}.npy: shape {soft.shape} does not fit the frame')
    sky = frame.labels == SKY
    depth = np.where(sky, np.float32(np.inf), frame.depth)
    normals = np.where(sky[..., None], np.float32(0.0), frame.normals)     # as the world's sky: no normal
    return SimpleNamespace(**{**vars(frame), 'depth': depth, 'normals': normals}, soft=soft)
