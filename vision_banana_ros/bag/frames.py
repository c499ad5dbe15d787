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

"""Camera frames read out of rosbag2 files for learning from them (`distill`), a few per second of motion.

Every camera of a bag (`cameras`: one image topic per namespace, or the topics named) gives its frames with the
header stamp and the intrinsics of its latest CameraInfo (None before the first usable one). A frame is kept only
when at least `min_interval_s` passed since the camera's last kept frame and its picture changed from that one's
by at least `min_change` (mean absolute difference of 32 x 24 grey thumbnails, 0..1): a parked robot does not fill
the set with one view. A depth camera topic (`depth_topics`, 16UC1 or 32FC1, registered to the colour camera
whose namespace is the longest prefix of its name) gives the kept frame with the same stamp (within
`DEPTH_TOLERANCE_S`) its measured metres, at the depth image's own size; a label topic (mono8 train ids, ground
truth) its labels likewise.

A message that cannot be read or decoded is skipped and counted (`stats`), like `bag process` does.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from . import messages
from .cameras import first_camera_infos, messages_until_error, select_cameras
from .io import open_reader
from ..camera_images import compressed_to_rgb, depth_image_to_metres, image_to_rgb, label_image_to_ids
from ..geometry.intrinsics import Intrinsics

DEPTH_TOLERANCE_S = 0.02
THUMBNAIL = (32, 24)


@dataclass
class BagFrame:
    """One camera frame of a bag: its namespace, header stamp, RGB, intrinsics (None: no usable CameraInfo yet),
    and where the bag has them, measured depth (metres, NaN where none) and labels (train ids, 255 unknown).
    """

    bag: str
    camera: str
    stamp_ns: int
    rgb: np.ndarray
    intrinsics: Intrinsics | None
    depth: np.ndarray | None = None
    labels: np.ndarray | None = None


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(PILImage.fromarray(rgb).convert('L').resize(THUMBNAIL, PILImage.BILINEAR), np.float32) / 255.0


def _owner(topic: str, cameras: list[str]) -> str:
    """The camera namespace a depth or label topic belongs to: the only camera, or the one whose namespace is the
    longest prefix of the topic.
    """
    if len(cameras) == 1:
        return cameras[0]
    owners = [ns for ns in cameras if topic.startswith(ns.rstrip('/') + '/')]
    if not owners:
        raise ValueError(f'topic {topic} belongs to none of the cameras {sorted(cameras)}: its name must start '
                         'with the camera namespace')
    return max(owners, key=len)


DECODERS = {'depth': depth_image_to_metres, 'labels': label_image_to_ids}


def camera_frames(bags: list[str | Path], image_topics: list[str] | None = None,
                  depth_topics: list[str] | None = None, min_interval_s: float = 0.5, min_change: float = 0.02,
                  stats: Counter | None = None, label_topics: list[str] | None = None,
                  rectified: bool = True, fallback_hfov_deg: float | None = None) -> Iterator[BagFrame]:
    """The kept frames of every camera of every bag, in bag order per camera; `label_topics`: mono8 train id
    images (ground truth) paired like the depth topics; `rectified`: intrinsics from CameraInfo's P (false: its K),
    and `fallback_hfov_deg` those of a frame without a usable CameraInfo (None: no intrinsics), as the node's
    parameters.
    """
    stats = Counter() if stats is None else stats
    extra = [(t, 'depth') for t in depth_topics or []] + [(t, 'labels') for t in label_topics or []]
    for bag in bags:
        yield from _bag_frames(Path(bag), image_topics, extra, min_interval_s, min_change, stats, rectified,
                               fallback_hfov_deg)


def _bag_frames(bag: Path, image_topics, extra, min_interval_s, min_change, stats: Counter, rectified: bool,
                fallback_hfov_deg: float | None):
    reader = open_reader(bag)
    try:
        # a registered depth image is named like a camera's image: named as ground truth, it is not one
        ground_truth = {topic for topic, _ in extra}
        cameras = {topic: ns for topic, ns in select_cameras(reader, bag, image_topics).items()
                   if topic not in ground_truth}
        if not cameras:
            raise ValueError(f'bag {bag} has no camera images besides its ground truth {sorted(ground_truth)}')
        topics = {c.topic for c in reader.connections}
        for topic, kind in extra:
            if topic not in topics:
                raise ValueError(f'bag {bag} has no {kind} topic {topic}; its topics: {sorted(topics)}')
        paired = {topic: (_owner(topic, list(cameras.values())), kind) for topic, kind in extra}
        needs = {}          # camera -> the kinds its frames wait for
        for ns, kind in paired.values():
            needs.setdefault(ns, set()).add(kind)
        info_topics = {f'{ns}/camera_info': ns for ns in cameras.values()}
        latest_info = first_camera_infos(reader, info_topics)
        last: dict[str, tuple[int, np.ndarray]] = {}    # camera -> (stamp, thumbnail) of its last kept frame
        waiting: dict[str, BagFrame] = {}               # kept frames waiting for their depth or labels
        latest: dict[tuple[str, str], tuple[int, np.ndarray]] = {}   # (camera, kind) -> (stamp, values)
        held: dict[tuple[str, str], int] = {}      # (camera, kind) -> the stamp of what its newest frame holds
        tolerance = int(DEPTH_TOLERANCE_S * 1e9)
        errors: list[str] = []

        def attach(frame: BagFrame, kind: str, stamp: int, values: np.ndarray) -> None:
            """Give the frame these values when their stamp lies within the tolerance of its own and nearer than
            what it holds.
            """
            key, near = (frame.camera, kind), abs(frame.stamp_ns - stamp)
            if near <= tolerance and (key not in held or near < abs(frame.stamp_ns - held[key])):
                stats[f'frames with {kind} from the bag'] += key not in held
                setattr(frame, kind, values)
                held[key] = stamp

        def complete(frame: BagFrame) -> bool:
            """It holds all it waits for, and no later message can be nearer: the newest of each kind is not older
            than the frame (at 50 Hz and more the previous frame's lies within the tolerance too).
            """
            return all((frame.camera, k) in held and latest[frame.camera, k][0] >= frame.stamp_ns
                       for k in needs.get(frame.camera, ()))

        wanted = [c for c in reader.connections if c.topic in cameras or c.topic in info_topics or c.topic in paired]
        for connection, _, raw in messages_until_error(reader, errors, wanted):
            topic = connection.topic
            try:
                msg = reader.deserialize(raw, connection.msgtype)
            except Exception:
                stats['unreadable messages'] += 1
                continue
            if topic in info_topics:
                latest_info[info_topics[topic]] = msg
                continue
            stamp = messages.stamp_ns(msg.header)
            if topic in paired:
                ns, kind = paired[topic]
                try:
                    latest[ns, kind] = (stamp, DECODERS[kind](msg))
                except ValueError:
                    stats[f'undecodable {kind} images'] += 1
                    continue
                if ns in waiting:
                    attach(waiting[ns], kind, *latest[ns, kind])
                    if complete(waiting[ns]):
                        yield waiting.pop(ns)
                continue
            ns = cameras[topic]
            stats['frames read'] += 1
            try:
                rgb = compressed_to_rgb(msg) if connection.msgtype == messages.COMPRESSED_IMAGE else image_to_rgb(msg)
            except ValueError:
                stats['undecodable images'] += 1
                continue
            if min(rgb.shape[:2]) < 8:
                stats['undecodable images'] += 1
                continue
            thumbnail = _thumbnail(rgb)
            if ns in last:
                since, previous = last[ns]
                if stamp - since < min_interval_s * 1e9 or float(np.abs(thumbnail - previous).mean()) < min_change:
                    continue
            last[ns] = (stamp, thumbnail)
            info = latest_info.get(ns)
            try:     # an unusable CameraInfo (non-finite distortion too) is no CameraInfo
                intrinsics = (None if info is None else
                              Intrinsics.from_camera_info(info, rectified).scaled_to(rgb.shape[1], rgb.shape[0]))
            except ValueError:
                intrinsics = None
            stats['frames without CameraInfo'] += intrinsics is None
            if intrinsics is None and fallback_hfov_deg is not None:
                intrinsics = Intrinsics.from_fov(rgb.shape[1], rgb.shape[0], fallback_hfov_deg)
            frame = BagFrame(str(bag), ns, stamp, rgb, intrinsics)
            if ns in waiting:       # nothing nearer came for the frame before
                yield waiting.pop(ns)
            for kind in needs.get(ns, ()):
                held.pop((ns, kind), None)
                if (ns, kind) in latest:
                    attach(frame, kind, *latest[ns, kind])
            if complete(frame):
                yield frame
            else:
                waiting[ns] = frame
        yield from waiting.values()
        for error in errors:
            stats[f'read error ({error})'] += 1
    finally:
        reader.close()
