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

"""The cameras of a rosbag2, as `bag process` and `distill` find them: which topics are camera images, one per
camera namespace, which "image" topics are depth cameras, and each camera's first CameraInfo.
"""
from __future__ import annotations

from . import messages

IMAGE_TYPES = (messages.IMAGE, messages.COMPRESSED_IMAGE)
DEPTH_ENCODINGS = ('16UC1', '32FC1')
_PREFERRED_IMAGES = ('image_rect_color', 'image_color', 'image_rect', 'image_raw', 'image')


def _image_name(topic: str) -> str:
    return topic[:-len('/compressed')] if topic.endswith('/compressed') else topic


def camera_namespace(topic: str) -> str:
    """The camera's namespace of an image topic (the topic without its image name)."""
    return _image_name(topic).rsplit('/', 1)[0]


def _preference(topic: str) -> tuple:
    name = _image_name(topic).rsplit('/', 1)[-1]
    rank = _PREFERRED_IMAGES.index(name) if name in _PREFERRED_IMAGES else len(_PREFERRED_IMAGES)
    return topic.endswith('/compressed'), rank, topic


def _one_per_namespace(topics: list[str], named: bool) -> dict[str, str]:
    """Image topic -> its camera namespace, one topic per namespace (else every frame would be answered twice)."""
    by_namespace: dict[str, list[str]] = {}
    for topic in topics:
        by_namespace.setdefault(camera_namespace(topic), []).append(topic)
    for namespace, group in by_namespace.items():
        if len(group) > 1 and named:
            raise ValueError(f'image topics {sorted(group)} are one camera ({namespace or "/"}): name one of them')
    return {min(group, key=_preference): namespace for namespace, group in by_namespace.items()}


def select_cameras(reader, src, image_topics: list[str] | None) -> dict[str, str]:
    """Image topic -> camera namespace of the cameras to answer: the topics named, else every Image or
    CompressedImage topic whose last name starts with "image", one per namespace. ValueError listing the bag's
    topics when there is none or a named one is missing.
    """
    available = sorted(c.topic for c in reader.connections if c.msgtype in IMAGE_TYPES)
    wanted = image_topics or [t for t in available if _image_name(t).rsplit('/', 1)[-1].startswith('image')]
    missing = [t for t in wanted if t not in available]
    if missing or not wanted:
        raise ValueError(f'bag {src} has no image topic {missing or ""}; its image topics: {available or "none"}; '
                         f'all topics: {sorted({c.topic for c in reader.connections})}')
    return _one_per_namespace(wanted, named=bool(image_topics))


def depth_encoding(msg) -> str | None:
    """The encoding of a depth image (raw 16UC1/32FC1, or compressed as a PNG or compressedDepth of one), else
    None: a depth camera's topic is named like a camera's, but it is no picture to answer.
    """
    encoding = (getattr(msg, 'encoding', None) or getattr(msg, 'format', '')).split(';')[0].strip()
    return encoding if encoding.upper() in DEPTH_ENCODINGS else None


def first_camera_infos(reader, info_topics: dict[str, str]) -> dict:
    """Namespace -> its first CameraInfo in the bag: recorders often log it just after the first images, which
    would otherwise go out with the fallback field of view.
    """
    first = {}
    connections = [c for c in reader.connections if c.topic in info_topics]
    if not connections:   # the reader takes no connections as all of them
        return first
    try:
        for connection, _, raw in reader.messages(connections=connections):
            try:
                first.setdefault(info_topics[connection.topic], reader.deserialize(raw, connection.msgtype))
            except Exception:   # a truncated one: the main pass counts it
                continue
            if len(first) == len(set(info_topics.values())):
                break
    except Exception:   # a read error: the main pass reports it
        pass
    return first


def messages_until_error(reader, errors: list, connections=None):
    """The reader's messages (of `connections`, all when None); a read error part way ends them, noted in
    `errors`.
    """
    iterator = reader.messages(connections=connections) if connections else reader.messages()
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # rosbags and its storage plugins raise many kinds
            errors.append(' '.join(str(exc).split())[:300] or type(exc).__name__)
            return
        yield item
