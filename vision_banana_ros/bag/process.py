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

"""`vision_banana bag process IN OUT`: every camera image of a rosbag2 through the node's engine and geometry, at
full batch speed, written with the input topics to a new bag under the node's output names.

A camera is an Image or CompressedImage topic whose last name starts with "image" (`<ns>/image`,
`<ns>/image_raw`, `<ns>/image_rect_color/compressed`, ...) or any topic named with --image-topic; its parent is
its namespace `<ns>`. One topic per namespace: of several found, the uncompressed and most processed one is
taken (rect_color, color, rect, raw); of several named, none. Its intrinsics come from the latest
`<ns>/camera_info` before the image (the first one for images logged before it), else from `fallback_hfov_deg`
(such frames are counted). Outputs go to `<ns>/semantic/labels`, `<ns>/depth`, ... with the input's header and
bag timestamp. Frames are batched across cameras up to `max_batch`, like the node does under load. A run that
fails leaves no output bag behind.
"""
from __future__ import annotations

from pathlib import Path
import shutil
import sys
import time

from tqdm import tqdm

from . import messages
from .io import open_reader, open_writer
from ..camera_images import compressed_to_rgb, image_to_rgb
from ..config import build_backend, load_config_file, runnable_tasks, size_warning
from ..engine import BatchRunner, FrameRequest
from ..geometry import Intrinsics
from ..outputs import make_outputs, OUTPUT_TASKS

IMAGE_TYPES = (messages.IMAGE, messages.COMPRESSED_IMAGE)


def _image_name(topic: str) -> str:
    return topic[:-len('/compressed')] if topic.endswith('/compressed') else topic


def camera_namespace(topic: str) -> str:
    """The camera's namespace of an image topic (the topic without its image name)."""
    return _image_name(topic).rsplit('/', 1)[0]


_PREFERRED_IMAGES = ('image_rect_color', 'image_color', 'image_rect', 'image_raw', 'image')


def _preference(topic: str) -> tuple:
    name = _image_name(topic).rsplit('/', 1)[-1]
    rank = _PREFERRED_IMAGES.index(name) if name in _PREFERRED_IMAGES else len(_PREFERRED_IMAGES)
    return topic.endswith('/compressed'), rank, topic


DEPTH_ENCODINGS = ('16UC1', '32FC1')


def _one_per_namespace(topics: list[str], named: bool) -> dict[str, str]:
    """Image topic -> its camera namespace, one topic per namespace (else every frame would be answered twice)."""
    by_namespace: dict[str, list[str]] = {}
    for topic in topics:
        by_namespace.setdefault(camera_namespace(topic), []).append(topic)
    for namespace, group in by_namespace.items():
        if len(group) > 1 and named:
            raise ValueError(f'image topics {sorted(group)} are one camera ({namespace or "/"}): name one of them')
    return {min(group, key=_preference): namespace for namespace, group in by_namespace.items()}


def _depth_encoding(msg) -> str | None:
    """The encoding of a depth image (raw 16UC1/32FC1, or compressed as a PNG or compressedDepth of one), else
    None: a depth camera's topic is named like a camera's, but it is no picture to answer.
    """
    encoding = (getattr(msg, 'encoding', None) or getattr(msg, 'format', '')).split(';')[0].strip()
    return encoding if encoding.upper() in DEPTH_ENCODINGS else None


def _first_camera_infos(reader, info_topics: dict[str, str]) -> dict:
    """Namespace -> its first CameraInfo in the bag: recorders often log it just after the first images, which
    would otherwise go out with the fallback field of view.
    """
    first = {}
    connections = [c for c in reader.connections if c.topic in info_topics]
    if not connections:   # the reader takes no connections as all of them
        return first
    for connection, _, raw in reader.messages(connections=connections):
        first.setdefault(info_topics[connection.topic], reader.deserialize(raw, connection.msgtype))
        if len(first) == len(set(info_topics.values())):
            break
    return first


def process_bag(src: str | Path, dst: str | Path, config_file: str | Path | None = None,
                image_topics: list[str] | None = None, storage: str = 'mcap', progress: bool = True) -> dict:
    """Process every camera image of the bag `src` into the new bag `dst`; return a summary."""
    src, dst = Path(src), Path(dst)
    output = open_writer(dst, storage)  # refuses an existing bag before the model loads
    try:
        return _process(src, dst, output, config_file, image_topics, progress)
    except BaseException:  # a half-written bag has no index: not worth keeping, and it would block a re-run
        shutil.rmtree(dst, ignore_errors=True)
        raise


def _process(src: Path, dst: Path, output, config_file, image_topics, progress) -> dict:
    config = load_config_file(config_file)
    backend = build_backend(config)
    runner = BatchRunner(backend, runnable_tasks(config, backend), config.precision)
    if warning := size_warning(backend):
        print(f'vision_banana bag process: warning: {warning}', file=sys.stderr)
    reader = open_reader(src)
    try:
        available = sorted(c.topic for c in reader.connections if c.msgtype in IMAGE_TYPES)
        wanted = image_topics or [t for t in available if _image_name(t).rsplit('/', 1)[-1].startswith('image')]
        missing = [t for t in wanted if t not in available]
        if missing or not wanted:
            raise ValueError(f'bag {src} has no image topic {missing or ""}; its image topics: {available or "none"}; '
                             f'all topics: {sorted({c.topic for c in reader.connections})}')
        cameras = _one_per_namespace(wanted, named=bool(image_topics))
        taken = {c.topic for c in reader.connections} & {f'{ns}/{o}' for ns in cameras.values() for o in OUTPUT_TASKS}
        if taken:
            raise ValueError(f'bag {src} already has output topics {sorted(taken)}: process the original bag')
        info_topics = {f'{ns}/camera_info': ns for ns in cameras.values()}
        total = sum(c.msgcount for c in reader.connections if c.topic in cameras)
        stats = {'frames': 0, 'rejected': 0, 'fallback_intrinsics': 0, 'stage_ms': {}}
        rejected_on = dict.fromkeys(cameras, 0)
        skipped = []
        started = time.perf_counter()
        with output as writer:
            # Definitions from the reader's typestore: bags recorded before Jazzy carry no type hash (and
            # Humble's sqlite3 ones no definitions); the input's QoS (latched /tf_static) is kept.
            copies = {c.id: writer.add_connection(c.topic, c.msgtype, typestore=reader.typestore,
                                                  offered_qos_profiles=c.ext.offered_qos_profiles)
                      for c in reader.connections}
            outputs = {}
            latest_info = _first_camera_infos(reader, info_topics)
            pending, logged = [], []   # frames for the next batch; their bag timestamp and CameraInfo each
            bar = tqdm(total=total, unit='frame', desc=f'process {src.name}', disable=not progress)

            def flush():
                for result, (timestamp, info) in zip(runner.run(pending), logged):
                    for topic, output in make_outputs(result, config, OUTPUT_TASKS, camera_info=info).items():
                        name = f'{result.camera_id}/{topic}'
                        msgtype, msg = messages.output_message(output, result.header)
                        if name not in outputs:
                            outputs[name] = writer.add_connection(name, msgtype, typestore=messages.TYPESTORE)
                        writer.write(outputs[name], timestamp, messages.serialize(msg, msgtype))
                    for stage, ms in result.timings.items():  # batch stages are shared by its frames
                        share = ms if stage == 'queue' else ms / result.batch_size
                        stats['stage_ms'][stage] = stats['stage_ms'].get(stage, 0.0) + share
                    stats['frames'] += 1
                bar.update(len(pending))
                pending.clear()
                logged.clear()

            for connection, timestamp, raw in reader.messages():
                writer.write(copies[connection.id], timestamp, raw)
                if connection.topic in info_topics:
                    latest_info[info_topics[connection.topic]] = reader.deserialize(raw, connection.msgtype)
                if connection.topic not in cameras:
                    continue
                ns = cameras[connection.topic]
                msg = reader.deserialize(raw, connection.msgtype)
                if depth := _depth_encoding(msg):
                    bar.write(f'{connection.topic}: {depth} is a depth image, not a camera: topic skipped',
                              file=sys.stderr)   # stdout is the summary's
                    skipped.append(connection.topic)
                    del cameras[connection.topic]
                    bar.update(sum(c.msgcount for c in reader.connections if c.topic == connection.topic))
                    continue
                try:
                    rgb = (compressed_to_rgb(msg) if connection.msgtype == messages.COMPRESSED_IMAGE
                           else image_to_rgb(msg))
                except ValueError as exc:
                    stats['rejected'] += 1
                    rejected_on[connection.topic] += 1
                    if rejected_on[connection.topic] == 1:
                        bar.write(f'{connection.topic} @ {timestamp}: {exc}; frame skipped (further ones on this '
                                  'topic are counted, not shown)')
                    bar.update(1)
                    continue
                header = messages.header(messages.stamp_ns(msg.header), msg.header.frame_id)
                info = latest_info.get(ns)
                intrinsics, fallback = Intrinsics.for_image(info, rgb.shape[1], rgb.shape[0],
                                                            rectified=config.rectified,
                                                            fallback_hfov_deg=config.fallback_hfov_deg)
                if fallback:
                    stats['fallback_intrinsics'] += 1
                    info = None  # an unusable CameraInfo must not describe the depth image either
                pending.append(FrameRequest(ns, rgb, header=header, intrinsics=intrinsics))
                logged.append((timestamp, info))
                if len(pending) >= config.max_batch:
                    flush()
            if pending:
                flush()
            bar.close()
    finally:
        reader.close()
    seconds = time.perf_counter() - started
    frames = max(stats['frames'], 1)
    return {'input': str(src), 'output': str(dst), 'frames': stats['frames'], 'rejected': stats['rejected'],
            'fallback_intrinsics': stats['fallback_intrinsics'], 'cameras': sorted(cameras), 'skipped': skipped,
            'seconds': round(seconds, 2), 'fps': round(stats['frames'] / seconds, 2) if seconds else 0.0,
            'stage_ms_mean': {k: round(v / frames, 2) for k, v in stats['stage_ms'].items()},
            'topics': sorted(outputs)}
