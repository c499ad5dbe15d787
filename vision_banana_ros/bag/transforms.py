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

"""A bag's /tf and /tf_static as tf2's buffer holds them, so that `bag process` looks transforms up as the node
does with tf2 (target_frame, grid_frame, the camera mounting of the ground lock) without tf2_ros.

As in tf2: every frame has one parent (the latest message naming it decides), a static transform holds at every
time, a /tf transform is interpolated between the samples around the asked time (translation linearly, rotation
by slerp) and refused outside them (extrapolation), and a lookup chains the transforms through the frames' common
ancestor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cameras import messages_until_error
from .messages import stamp_ns
from ..geometry.transform import RigidTransform

TF_TOPICS = ('/tf', '/tf_static')


@dataclass
class _Edge:
    """A child frame's pose in its parent (the transform parent <- child): translation and unit quaternion
    (x, y, z, w), 7 values per header stamp (ns).
    """

    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)
    values: list[np.ndarray] = field(default_factory=list)
    _sorted: tuple[np.ndarray, np.ndarray] | None = None   # stamps and values in time order, once looked up

    def append(self, stamp_ns: int, value: np.ndarray) -> None:
        self.stamps.append(stamp_ns)
        self.values.append(value)
        self._sorted = None

    def at(self, stamp_ns: int, child: str) -> RigidTransform:
        if self.static:
            value = self.values[-1]
        else:
            if self._sorted is None:   # a bag's /tf can hold many thousand samples: sorted once, not per lookup
                order = np.argsort(self.stamps, kind='stable')
                self._sorted = np.asarray(self.stamps)[order], np.stack(self.values)[order]
            stamps, values = self._sorted
            index = int(np.searchsorted(stamps, stamp_ns))
            if index < len(stamps) and stamps[index] == stamp_ns:
                value = values[index]
            elif 0 < index < len(stamps):
                before, after = values[index - 1], values[index]
                share = (stamp_ns - stamps[index - 1]) / (stamps[index] - stamps[index - 1])
                value = np.concatenate([before[:3] + share * (after[:3] - before[:3]),
                                        _slerp(before[3:], after[3:], share)])
            else:
                raise LookupError(f'extrapolation: {self.parent} -> {child} is known from {stamps[0] / 1e9:.3f} to '
                                  f'{stamps[-1] / 1e9:.3f} s, asked at {stamp_ns / 1e9:.3f} s')
        return RigidTransform.from_translation_quaternion(value[:3], value[3:])


def _slerp(q0: np.ndarray, q1: np.ndarray, share: float) -> np.ndarray:
    if q0 @ q1 < 0:       # the shorter way round
        q1 = -q1
    angle = np.arccos(np.clip(q0 @ q1, -1.0, 1.0))
    if angle < 1e-9:
        return q0
    return (np.sin((1 - share) * angle) * q0 + np.sin(share * angle) * q1) / np.sin(angle)


class BagTransforms:
    """The transforms of TFMessages added in any order; `lookup` answers as tf2's lookup_transform."""

    def __init__(self):
        self._edges: dict[str, _Edge] = {}

    def __bool__(self) -> bool:
        return bool(self._edges)

    def add(self, message, static: bool) -> None:
        """Every TransformStamped of a tf2_msgs/TFMessage (from /tf_static when `static`)."""
        for t in message.transforms:
            child, parent = t.child_frame_id.lstrip('/'), t.header.frame_id.lstrip('/')
            edge = self._edges.get(child)
            if edge is None or edge.parent != parent or edge.static != static:
                edge = self._edges[child] = _Edge(parent, static)
            r, q = t.transform.translation, t.transform.rotation
            edge.append(stamp_ns(t.header), np.array([r.x, r.y, r.z, q.x, q.y, q.z, q.w], dtype=np.float64))

    def lookup(self, target: str, source: str, stamp_ns: int) -> RigidTransform:
        """The transform target <- source at the stamp (p_target = R p_source + t); LookupError says why there is
        none. Only the transforms below the two frames' common ancestor are looked at, as in tf2.
        """
        target, source = target.lstrip('/'), source.lstrip('/')
        above_target = self._ancestors(target)
        common = next((frame for frame in self._ancestors(source) if frame in above_target), None)
        if common is None:
            raise LookupError(f'{source} and {target} are not connected in the tf of the bag '
                              f'(frames: {", ".join(sorted(self.frames()))})')
        return self._up_to(common, target, stamp_ns).inverse().after(self._up_to(common, source, stamp_ns))

    def frames(self) -> set[str]:
        """Every frame named as a parent or a child."""
        return set(self._edges) | {edge.parent for edge in self._edges.values()}

    def _ancestors(self, frame: str) -> list[str]:
        """The frame and its ancestors, nearest first."""
        chain = [frame]
        while frame in self._edges:
            frame = self._edges[frame].parent
            if frame in chain:
                raise LookupError(f'the tf of the bag has a loop through {frame}')
            chain.append(frame)
        return chain

    def _up_to(self, ancestor: str, frame: str, stamp_ns: int) -> RigidTransform:
        """The transform ancestor <- frame."""
        transform = RigidTransform(np.eye(3), np.zeros(3))
        while frame != ancestor:
            edge = self._edges[frame]
            transform = edge.at(stamp_ns, frame).after(transform)
            frame = edge.parent
        return transform


def read_transforms(reader) -> BagTransforms:
    """Every readable /tf and /tf_static message of a rosbags reader (an unreadable one, or those after a read
    error, are left out: the main pass over the bag reports them).
    """
    transforms = BagTransforms()
    connections = [c for c in reader.connections if c.topic in TF_TOPICS]
    for connection, _, raw in messages_until_error(reader, [], connections) if connections else ():
        try:
            message = reader.deserialize(raw, connection.msgtype)
        except Exception:   # noqa: S112 - the main pass, which reads every message again, reports it
            continue
        transforms.add(message, static=connection.topic == '/tf_static')
    return transforms
