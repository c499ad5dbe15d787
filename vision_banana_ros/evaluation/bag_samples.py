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

"""Ground truth recorded in a bag as evaluation samples (`vision_banana eval --bag`): every frame of its cameras
with the label image (mono8 train ids) and/or the depth image (an RGB-D or stereo camera registered to the colour
one, 16UC1 or 32FC1) of the same stamp. By default each camera's `<ns>/ground_truth/labels` and
`<ns>/ground_truth/depth`, as `bag make-sample` records them, where the bag has them. Ground truth of another
size than its image is resized to it (nearest). Normals are not in bags: they are not scored.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image as PILImage

from ..bag.cameras import select_cameras
from ..bag.frames import camera_frames
from ..bag.io import open_reader
from ..parameters import BY_NAME


def _default_topics(bag, image_topics) -> tuple[list[str], list[str]]:
    reader = open_reader(Path(bag))
    try:
        cameras = select_cameras(reader, bag, image_topics)
        topics = {c.topic for c in reader.connections}
    finally:
        reader.close()
    found = [[f'{ns}/ground_truth/{kind}' for ns in cameras.values() if f'{ns}/ground_truth/{kind}' in topics]
             for kind in ('labels', 'depth')]
    return found[0], found[1]


def _at(values: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if values.shape == shape:
        return values
    return np.asarray(PILImage.fromarray(values).resize(shape[::-1], PILImage.NEAREST))


def bag_samples(bag, image_topics=None, label_topics=None, depth_topics=None, stats: Counter | None = None,
                rectified: bool = BY_NAME['rectified'].default,
                fallback_hfov_deg: float | None = BY_NAME['fallback_hfov_deg'].default):
    """Evaluation samples (rgb, labels, depth, normals, intrinsics) of every camera frame of `bag` that has
    ground truth, with the intrinsics the node would use with these parameters (CameraInfo's P or K, else the
    fallback field of view; None: none); `stats` counts the frames read, paired and left out (and why).
    ValueError when the bag has none to score.
    """
    if label_topics is None or depth_topics is None:
        # each kind not named: its default where the bag has it, unless the topic is named as the other kind
        default_labels, default_depth = _default_topics(bag, image_topics)
        named = set(label_topics or []) | set(depth_topics or [])
        label_topics = [t for t in default_labels if t not in named] if label_topics is None else label_topics
        depth_topics = [t for t in default_depth if t not in named] if depth_topics is None else depth_topics
        if not label_topics and not depth_topics:
            raise ValueError(f'bag {bag} has no <camera>/ground_truth/labels or /depth topic: name the ground truth '
                             'with --labels-topic and/or --depth-topic')
    stats = Counter() if stats is None else stats
    scored = 0
    for frame in camera_frames([bag], image_topics, depth_topics, 0.0, -1.0, stats, label_topics, rectified,
                               fallback_hfov_deg):
        if frame.labels is None and frame.depth is None:
            stats['frames without ground truth'] += 1
            continue
        scored += 1
        shape = frame.rgb.shape[:2]
        labels = np.full(shape, 255, np.uint8) if frame.labels is None else _at(frame.labels, shape)
        depth = np.full(shape, np.nan, np.float32) if frame.depth is None else _at(frame.depth, shape)
        intrinsics = (None if frame.intrinsics is None
                      else {k: getattr(frame.intrinsics, k) for k in ('fx', 'fy', 'cx', 'cy')})
        yield SimpleNamespace(rgb=frame.rgb, labels=labels, depth=depth, normals=np.zeros((*shape, 3), np.float32),
                              intrinsics=intrinsics)
    if not scored:
        raise ValueError(f'bag {bag}: no camera frame got ground truth from {label_topics + depth_topics} '
                         f'({", ".join(f"{what}: {n}" for what, n in sorted(stats.items())) or "no frames"})')
