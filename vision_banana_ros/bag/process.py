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

A camera (`cameras`) is an Image or CompressedImage topic whose last name starts with "image" (`<ns>/image`,
`<ns>/image_raw`, `<ns>/image_rect_color/compressed`, ...) or any topic named with --image-topic; its parent is
its namespace `<ns>`. One topic per namespace: of several found, the uncompressed and most processed one is
taken (rect_color, color, rect, raw); of several named, none. Its intrinsics come from the latest
`<ns>/camera_info` before the image (the first one for images logged before it), else from `fallback_hfov_deg`
(such frames are counted). Outputs go to `<ns>/semantic/labels`, `<ns>/depth`, ... with the input's header and
bag timestamp. Frames are batched across cameras up to `max_batch`, like the node does under load. What the node
looks up in tf2 (target_frame, grid_frame, the camera mounting of the ground lock and of `upright`) comes from the
bag's /tf and /tf_static (bag.transforms), at the image stamp.

A bad input costs only itself: a message that cannot be read (truncated), a frame under 8 px or an image that does
not decode is skipped and counted as rejected (one stderr line per topic and reason, with the count); a topic of a
message type the reader does not know is not copied (one warning); a CameraInfo with non-finite distortion
coefficients is refused like an unusable one (fallback field of view, no distortion on depth/camera_info); a read
error part way stops reading and keeps what came before. The bag is written as `OUT.partial` (`OUT.partial.N` when
an earlier interrupted run left that) and renamed to `OUT` when complete; a failed run removes only that.
SIGINT/SIGTERM closes it as a readable bag that stays there (the summary says `"partial": true`); before the model
has loaded, none is written.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
import shutil
import signal
import sys
import threading
import time

from tqdm import tqdm

from . import messages
from .cameras import depth_encoding, first_camera_infos, messages_until_error, select_cameras
from .io import open_reader, open_writer, STORAGES
from .transforms import BagTransforms, read_transforms, TF_TOPICS
from ..camera_images import compressed_to_rgb, image_to_rgb
from ..config import build_backend, load_config_file, runnable_tasks, startup_warnings
from ..engine import BatchRunner, FrameRequest
from ..geometry import Intrinsics
from ..geometry.ground import LockState
from ..geometry.intrinsics import finite_distortion
from ..outputs import (
    CLOUD_TOPICS,
    configured_ground_lock,
    ground_as_configured,
    make_outputs,
    OUTPUT_TASKS,
    upright_turn_as_configured,
)


class _Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _interruptible(state: dict):
    """SIGINT/SIGTERM raise _Interrupted while `state['raise']` (nothing written yet), else set `state['signum']`
    for the loop to stop at the next message (a write is never cut in half). Only the main thread has signals.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        state['signum'] = signum
        if state['raise']:
            raise _Interrupted(signum)
    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class _Tally:
    """Skipped messages per (topic, reason): counted, and reported as one line each at the end."""

    def __init__(self):
        self.counts: dict[tuple[str, str], int] = {}
        self.first: dict[tuple[str, str], str] = {}

    def add(self, topic: str, reason: str, timestamp: int, detail: str = '') -> None:
        key = (topic, reason)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.first.setdefault(key, f'first at bag time {timestamp}' + (f': {detail}' if detail else ''))

    def by_topic(self) -> dict:
        out: dict[str, dict[str, int]] = {}
        for (topic, reason), n in self.counts.items():
            out.setdefault(topic, {})[reason] = n
        return out

    def lines(self, what: str) -> list[str]:
        return [f'vision_banana bag process: {topic}: {n} message{"s" if n > 1 else ""} {what}: {reason} '
                f'({self.first[(topic, reason)]})' for (topic, reason), n in self.counts.items()]


@contextmanager
def _closed_when_done(writer):
    """Close (index, write metadata) an opened writer when the block ends normally; on an error, abort it (its
    files closed, no metadata: the half-written bag is removed after).
    """
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.close()


def _free_partial_name(dst: Path) -> Path:
    """`OUT.partial`, or `OUT.partial.N` when an earlier interrupted run left one (never overwritten)."""
    for n in range(1000):
        partial = dst.with_name(dst.name + '.partial' + (f'.{n}' if n else ''))
        if not partial.exists():
            return partial
    raise ValueError(f'{dst}.partial ... {dst}.partial.999 all exist: remove the partial bags of earlier runs')


def process_bag(src: str | Path, dst: str | Path, config_file: str | Path | None = None,
                image_topics: list[str] | None = None, storage: str = 'mcap', progress: bool = True,
                output_prefix: str = '') -> dict:
    """Process every camera image of the bag `src` into the new bag `dst`, each camera's outputs under
    `<ns>/<output_prefix>/`; return a summary (with `partial` and `interrupted` set when a signal stopped it).
    """
    import torch
    threads = torch.get_num_threads()
    try:
        return _process_bag(src, dst, config_file, image_topics, storage, progress, output_prefix)
    finally:    # the --config file's cpu_threads is this run's, not the caller's
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _process_bag(src, dst, config_file, image_topics, storage: str, progress: bool, output_prefix: str) -> dict:
    src, dst = Path(src), Path(dst)
    if dst.exists():
        raise ValueError(f'{dst} exists already: rosbag2 writes a new directory')
    partial = _free_partial_name(dst)
    if storage not in STORAGES:
        raise ValueError(f'storage must be mcap or sqlite3, got {storage!r}')
    state = {'raise': True, 'signum': None, 'created': False}
    try:
        with _interruptible(state):
            summary = _process(src, dst, partial, storage, state, config_file, image_topics, progress,
                               output_prefix)
    except _Interrupted as stop:
        print(f'vision_banana bag process: interrupted by {stop} before any output was written: no bag',
              file=sys.stderr)
        return {'input': str(src), 'output': None, 'partial': False, 'interrupted': str(stop), 'frames': 0}
    except BaseException:
        if state['created']:        # ours, half written: not worth keeping
            shutil.rmtree(partial, ignore_errors=True)
        raise
    if summary.get('interrupted'):
        print(f'vision_banana bag process: interrupted by {summary["interrupted"]}: the {summary["frames"]} frames '
              f'done are in the readable partial bag {partial}', file=sys.stderr)
        return summary
    if dst.exists():
        raise ValueError(f'{dst} appeared while this run wrote; the complete output is at {partial}')
    partial.rename(dst)
    summary['output'] = str(dst)
    return summary


def _frame_outputs(result, info, config, transforms: BagTransforms, locks: dict, refused: _Tally,
                   timestamp: int) -> tuple[dict, LockState | None]:
    """A frame's outputs as the node builds them, with the bag's tf where the node reads tf2: the clouds in
    target_frame, the grid in grid_frame, and the camera's mounting for the ground lock with camera_height_m 0.
    A transform the bag lacks at the frame's stamp costs that frame those outputs (counted as refused); the lock
    without a mounting leaves the depth unscaled, as the node does.
    """
    header = result.header

    def lookup(target, source):
        return transforms.lookup(target, source, messages.stamp_ns(header))
    topics, transform, grid_transform = list(OUTPUT_TASKS), None, None
    if config.clouds_need_tf:
        try:
            transform = lookup(config.target_frame, header.frame_id)
        except LookupError as exc:
            refused.add(result.camera_id, f'no transform to target_frame {config.target_frame}: no clouds',
                        timestamp, str(exc))
            topics = [t for t in topics if t not in CLOUD_TOPICS]
    if config.grid_frame:
        try:
            grid_transform = lookup(config.grid_frame, header.frame_id)
        except LookupError as exc:
            refused.add(result.camera_id, f'no transform to grid_frame {config.grid_frame}: no grid', timestamp,
                        str(exc))
            topics.remove('grid')
    if result.camera_id not in locks:
        locks[result.camera_id] = configured_ground_lock(config)
    ground = ground_as_configured(result, locks[result.camera_id], config, lookup, topics)
    return make_outputs(result, config, topics, transform, info, ground, grid_transform), ground


def _process(src: Path, dst: Path, partial: Path, storage: str, state: dict, config_file, image_topics,
             progress, output_prefix: str) -> dict:
    reader = open_reader(src)
    try:
        cameras = select_cameras(reader, src, image_topics)
        under = {ns: f'{ns}/{output_prefix}/' if output_prefix else f'{ns}/' for ns in cameras.values()}
        taken = {c.topic for c in reader.connections} & {under[ns] + o for ns in under for o in OUTPUT_TASKS}
        if taken:
            raise ValueError(f'bag {src} already has output topics {sorted(taken)}: process the original bag, or '
                             'write the outputs under another name with --output-prefix')
        # The bag's /tf stands in for tf2: target_frame, grid_frame and the mounting (ground lock, upright).
        has_tf = any(c.topic in TF_TOPICS and c.msgcount for c in reader.connections)
        config = load_config_file(config_file, no_tf=None if has_tf else f'bag {src} has no /tf or /tf_static')
        transforms = read_transforms(reader) if config.needs_tf else BagTransforms()
        if config.cpu_threads:      # the --config file's cpu_threads, as the node takes it
            import torch
            torch.set_num_threads(config.cpu_threads)
        backend = build_backend(config)
    except BaseException:   # a bad config, a model that cannot load, or a signal while it loads
        reader.close()
        raise
    runner = BatchRunner(backend, runnable_tasks(config, backend), config.precision)
    for warning in startup_warnings(config, backend):
        print(f'vision_banana bag process: warning: {warning}', file=sys.stderr)
    rejected, refused, read_errors = _Tally(), _Tally(), []
    try:
        info_topics = {f'{ns}/camera_info': ns for ns in cameras.values()}
        total = sum(c.msgcount for c in reader.connections if c.topic in cameras)
        stats = {'frames': 0, 'fallback_intrinsics': 0, 'ground_locked': 0, 'turned_upright': 0, 'stage_ms': {}}
        skipped = []
        started = time.perf_counter()
        for path in (dst, partial):
            if path.exists():
                raise ValueError(f'{path} exists: it appeared while the model loaded; not touching it')
        writer = open_writer(partial, storage)
        state['raise'] = False              # from here a signal stops the loop, which closes the bag
        try:
            writer.open()
        except Exception as exc:   # rosbags' WriterError: the directory appeared meanwhile
            raise ValueError(f'cannot write {partial}: {exc}') from None
        state['created'] = True
        with _closed_when_done(writer):
            # Definitions from the reader's typestore: bags recorded before Jazzy carry no type hash (and
            # Humble's sqlite3 ones no definitions); the input's QoS (latched /tf_static) is kept. A type the
            # reader does not know (a custom message in a Humble sqlite3 bag) cannot be copied: that topic only.
            copies = {}
            for c in reader.connections:
                try:
                    copies[c.id] = writer.add_connection(c.topic, c.msgtype, typestore=reader.typestore,
                                                         offered_qos_profiles=c.ext.offered_qos_profiles)
                except Exception as exc:
                    if c.topic not in skipped:
                        print(f'vision_banana bag process: warning: {c.topic} ({c.msgtype}) not copied: unknown '
                              f'message type ({" ".join(str(exc).split())[:200]})', file=sys.stderr)
                        skipped.append(c.topic)
                    cameras.pop(c.topic, None)
            outputs = {}
            latest_info = first_camera_infos(reader, info_topics)
            pending, logged = [], []   # frames for the next batch; their bag timestamp and CameraInfo each
            bar = tqdm(total=total, unit='frame', desc=f'process {src.name}', disable=not progress)

            locks = {}     # a GroundLock per camera (the scale lock, or the plane of the navigation outputs)

            def flush():
                for result, (timestamp, info) in zip(runner.run(pending), logged):
                    outputs_of_frame, ground = _frame_outputs(result, info, config, transforms, locks, refused,
                                                              timestamp)
                    stats['ground_locked'] += bool(ground is not None and ground.locked)
                    for topic, output in outputs_of_frame.items():
                        name = under[result.camera_id] + topic
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

            for connection, timestamp, raw in messages_until_error(reader, read_errors):
                if state['signum'] is not None:
                    break
                if connection.id not in copies:
                    continue
                writer.write(copies[connection.id], timestamp, raw)
                if connection.topic in info_topics:
                    try:
                        latest_info[info_topics[connection.topic]] = reader.deserialize(raw, connection.msgtype)
                    except Exception as exc:
                        rejected.add(connection.topic, 'truncated or corrupt message', timestamp, str(exc)[:200])
                if connection.topic not in cameras:
                    continue
                ns = cameras[connection.topic]
                try:
                    msg = reader.deserialize(raw, connection.msgtype)
                except Exception as exc:
                    rejected.add(connection.topic, 'truncated or corrupt message', timestamp, str(exc)[:200])
                    bar.update(1)
                    continue
                if depth := depth_encoding(msg):
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
                    reason = ('truncated or corrupt message' if 'bytes, needs' in str(exc)
                              else 'undecodable image' if connection.msgtype == messages.COMPRESSED_IMAGE
                              else 'unusable image')
                    rejected.add(connection.topic, reason, timestamp, str(exc)[:200])
                    bar.update(1)
                    continue
                if min(rgb.shape[:2]) < 8:
                    rejected.add(connection.topic, 'frame smaller than 8 px', timestamp,
                                 f'{rgb.shape[1]}x{rgb.shape[0]}')
                    bar.update(1)
                    continue
                header = messages.header(messages.stamp_ns(msg.header), msg.header.frame_id)
                info = latest_info.get(ns)
                if info is not None and not finite_distortion(info):
                    refused.add(f'{ns}/camera_info', 'non-finite distortion coefficients: CameraInfo refused, '
                                'fallback field of view', timestamp)
                    info = None
                intrinsics, fallback = Intrinsics.for_image(info, rgb.shape[1], rgb.shape[0],
                                                            rectified=config.rectified,
                                                            fallback_hfov_deg=config.fallback_hfov_deg)
                if fallback:
                    stats['fallback_intrinsics'] += 1
                    info = None  # an unusable CameraInfo must not describe the depth image either
                turn = upright_turn_as_configured(
                    config, lambda target, source: transforms.lookup(target, source, messages.stamp_ns(header)),
                    header.frame_id)
                if isinstance(turn, str):
                    refused.add(ns, 'not turned upright: no camera mounting in the tf', timestamp, turn)
                    turn = 0.0
                stats['turned_upright'] += bool(turn)
                pending.append(FrameRequest(ns, rgb, header=header, intrinsics=intrinsics, turn_deg=turn))
                logged.append((timestamp, info))
                if len(pending) >= config.max_batch:
                    flush()
            if pending:
                flush()
            bar.close()
    finally:
        reader.close()
        backend.close()     # a served model's shared memory regions go with the run, as the node frees them
        for line in rejected.lines('skipped') + refused.lines('with'):
            print(line, file=sys.stderr)
        for error in read_errors:
            print(f'vision_banana bag process: error reading bag {src}: {error}; the output holds what came before',
                  file=sys.stderr)
    seconds = time.perf_counter() - started
    frames = max(stats['frames'], 1)
    signum = state['signum']
    return {'input': str(src), 'output': str(partial if signum else dst), 'frames': stats['frames'],
            'rejected': sum(rejected.counts.values()), 'rejected_by_topic': rejected.by_topic(),
            'fallback_intrinsics': stats['fallback_intrinsics'], 'ground_locked': stats['ground_locked'],
            'turned_upright': stats['turned_upright'],
            'cameras': sorted(cameras), 'skipped': skipped,
            'seconds': round(seconds, 2), 'fps': round(stats['frames'] / seconds, 2) if seconds else 0.0,
            'stage_ms_mean': {k: round(v / frames, 2) for k, v in stats['stage_ms'].items()},
            'topics': sorted(outputs), 'read_error': read_errors[0] if read_errors else None,
            'partial': bool(signum), 'interrupted': signal.Signals(signum).name if signum else None}
