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

"""`vision_banana bench --soak [--minutes M]`: the real node (in-process rclpy) under overload for minutes.

Two cameras publish at twice the rate the engine sustains for a batch of both (measured first, capped at 60 Hz a
camera; `--rate` sets it), with poison frames mixed in (short data, an unknown encoding, 1x1 images: one frame in
ten), run-time parameter changes (batch size, batching wait, field of view, rectified, confidence; now and then a
value out of range, which must be refused) and CameraInfo changes (good, of another size, absurd focal length, NaN
distortion) throughout. Every `--interval` seconds it prints frames in (published), out (depth received), rejected,
dropped as stale by the engine, missed (estimated by the node from stamp gaps), RSS and the latency p50/p99 (stamp
to receipt) of that interval; at the end one JSON line with the totals, RSS at start and end and the first and last
intervals' p99.
"""
from __future__ import annotations

import json
import math
import threading
import time

import numpy as np

CAMERAS = ('front', 'left')
OUTPUTS = ('depth', 'semantic/labels')    # subscribed on each camera: segmentation and depth run
MAX_RATE_HZ = 60.0
POISON_EVERY = 10


def rss_mb() -> float:
    """This process's resident set size in MiB (Linux /proc)."""
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def _sustainable_hz(node, width: int, height: int) -> float:
    """Frames per second a camera can have when both share each batch: the node's runner on the tasks the soak's
    outputs need, median of 5 runs after 2 warm-ups.
    """
    from ..engine import FrameRequest
    from ..outputs import tasks_for
    runner = node.core.engine.runner
    rng = np.random.default_rng(0)
    tasks = tasks_for(OUTPUTS, node.core.config)
    frames = [FrameRequest(cam, rng.integers(0, 256, (height, width, 3), dtype=np.uint8), tasks=tasks)
              for cam in CAMERAS]
    for _ in range(2):
        runner.run(frames)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        runner.run(frames)
        times.append(time.perf_counter() - started)
    return 1.0 / float(np.median(times))


class _Load:
    """The client side: publishes frames, poison, CameraInfo and parameter changes; receives the outputs."""

    def __init__(self, node, client, width: int, height: int, rate_hz: float):
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image
        self.node, self.client, self.width, self.height = node, client, width, height
        self.images = {c: client.create_publisher(Image, f'{c}/image', qos_profile_sensor_data) for c in CAMERAS}
        self.infos = {c: client.create_publisher(CameraInfo, f'{c}/camera_info', 10) for c in CAMERAS}
        for cam in CAMERAS:
            client.create_subscription(Image, f'{cam}/depth', self._on_depth, 10)
            for topic in OUTPUTS[1:]:
                client.create_subscription(Image, f'{cam}/{topic}', lambda msg: None, 10)
        rng = np.random.default_rng(0)
        self.pixels = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8).tobytes() for _ in range(4)]
        self.lock = threading.Lock()
        self.sent = self.poison = self.out = self.changes = self.refused = 0
        self.latencies_ms: list[float] = []
        self.step = 0
        client.create_timer(1.0 / rate_hz, self._send)
        client.create_timer(0.5, self._change)

    def _header(self, cam):
        from std_msgs.msg import Header
        return Header(frame_id=f'{cam}_optical', stamp=self.client.get_clock().now().to_msg())

    def _send(self) -> None:
        from sensor_msgs.msg import Image
        self.step += 1
        w, h = self.width, self.height
        for cam in CAMERAS:
            kind = self.step // POISON_EVERY % 3 if self.step % POISON_EVERY == 0 else None
            if kind is None:
                msg = Image(header=self._header(cam), width=w, height=h, encoding='rgb8', step=w * 3,
                            data=self.pixels[self.step % len(self.pixels)])
            elif kind == 0:    # short data
                msg = Image(header=self._header(cam), width=w, height=h, encoding='rgb8', step=w * 3,
                            data=self.pixels[0][:w * 3])
            elif kind == 1:    # an encoding nobody knows
                msg = Image(header=self._header(cam), width=w, height=h, encoding='bayer_xyz99', step=w * 3,
                            data=self.pixels[0])
            else:              # 1x1
                msg = Image(header=self._header(cam), width=1, height=1, encoding='rgb8', step=3, data=b'\0\0\0')
            self.images[cam].publish(msg)
            with self.lock:
                self.sent += 1
                self.poison += kind is not None

    def _change(self) -> None:
        from rclpy.parameter import Parameter
        from sensor_msgs.msg import CameraInfo
        i = self.changes
        w, h = self.width, self.height
        params = [[Parameter('max_batch', value=(1, 2, 4)[i % 3])],
                  [Parameter('max_wait_ms', value=(0.0, 5.0, 20.0)[i % 3])],
                  [Parameter('fallback_hfov_deg', value=(60.0, 90.0)[i % 2])],
                  [Parameter('rectified', value=bool(i % 2)), Parameter('publish_confidence', value=bool(i % 2))],
                  [Parameter('max_batch', value=0)]][i % 5]          # out of range: refused
        results = self.node.set_parameters(params)
        self.refused += sum(not r.successful for r in results)
        scale, focal, d = [(1, w / 2, [0.0] * 5), (2, w, [0.05, 0.0, 0.0, 0.0, 0.0]), (1, 1e308, [0.0] * 5),
                           (1, w / 2, [float('nan')] * 5)][i % 4]
        k = [focal, 0.0, w * scale / 2, 0.0, focal, h * scale / 2, 0.0, 0.0, 1.0]
        p = [focal, 0.0, w * scale / 2, 0.0, 0.0, focal, h * scale / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
        for cam in CAMERAS:
            self.infos[cam].publish(CameraInfo(header=self._header(cam), width=w * scale, height=h * scale, k=k, p=p,
                                               d=d, distortion_model='plumb_bob'))
        self.changes += 1

    def _on_depth(self, msg) -> None:
        from rclpy.time import Time
        latency = (self.client.get_clock().now() - Time.from_msg(msg.header.stamp)).nanoseconds / 1e6
        with self.lock:
            self.out += 1
            self.latencies_ms.append(latency)

    def take_latencies(self) -> list[float]:
        """The latencies received since the last call."""
        with self.lock:
            taken, self.latencies_ms = self.latencies_ms, []
        return taken


def _node_counts(node) -> dict:
    cameras = node.core.cameras.values()
    counts = node.core.engine.stats.snapshot()['counts']
    replaced = sum(c.decoder.replaced for c in cameras if c.decoder is not None)   # newer frame before decoding
    return {'rejected': sum(c.rejected for c in cameras), 'dropped': counts.get('dropped', 0) + replaced,
            'failed': counts.get('failed', 0), 'missed': sum(c.gaps.missed for c in cameras),
            'camera_info_refused': sum(c.info_refused for c in cameras)}


def run_soak(minutes: float, interval_s: float, weights: str | None, device: str, width: int, height: int,
             rate_hz: float | None = None) -> dict:
    """Run the soak and print its intervals; returns the summary (also printed as the last JSON line). `rate_hz`:
    each camera's rate (default: twice the sustainable rate, at most MAX_RATE_HZ).
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from ..ros.node import VisionBananaNode
    context = rclpy.Context()
    rclpy.init(context=context)
    overrides = [Parameter('cameras', value=list(CAMERAS)), Parameter('device', value=device),
                 Parameter('weights', value=weights or ''), Parameter('diagnostics_period', value=1.0)]
    node = VisionBananaNode(context=context, parameter_overrides=overrides)
    client = rclpy.create_node('vision_banana_soak_client', context=context)
    executor = SingleThreadedExecutor(context=context)
    try:
        sustainable = _sustainable_hz(node, width, height)
        rate = rate_hz or min(2 * sustainable, MAX_RATE_HZ)
        load = _Load(node, client, width, height, rate)
        for n in (node, client):
            executor.add_node(n)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        spinner.start()
        print(f'soak: 2 cameras {width}x{height}, sustainable {sustainable:.1f} frames/s a camera, sending '
              f'{rate:.1f} Hz each ({minutes:g} min, {POISON_EVERY - 1} good frames in {POISON_EVERY})')
        print(f'{"t s":>6} {"in":>6} {"out":>6} {"rejected":>8} {"dropped":>7} {"missed":>6} {"p50 ms":>8} '
              f'{"p99 ms":>8} {"RSS MiB":>8}')
        rss_start = rss_mb()
        started = time.monotonic()
        intervals = []
        for i in range(max(1, math.ceil(minutes * 60 / interval_s))):
            time.sleep(max(0.0, started + (i + 1) * interval_s - time.monotonic()))
            latencies = np.array(load.take_latencies() or [np.nan])
            row = {'t_s': round(time.monotonic() - started, 1), 'in': load.sent, 'out': load.out,
                   **_node_counts(node), 'p50_ms': float(np.percentile(latencies, 50)),
                   'p99_ms': float(np.percentile(latencies, 99)), 'rss_mb': rss_mb()}
            intervals.append(row)
            print(f'{row["t_s"]:6.1f} {row["in"]:6d} {row["out"]:6d} {row["rejected"]:8d} {row["dropped"]:7d} '
                  f'{row["missed"]:6d} {row["p50_ms"]:8.1f} {row["p99_ms"]:8.1f} {row["rss_mb"]:8.1f}')
        executor.shutdown(timeout_sec=5)
        spinner.join(10)
        last = intervals[-1]
        summary = {'minutes': minutes, 'camera': [width, height], 'sustainable_hz': sustainable, 'rate_hz': rate,
                   'frames_in': load.sent, 'poison_sent': load.poison, 'frames_out': load.out,
                   **{k: last[k] for k in ('rejected', 'dropped', 'failed', 'missed', 'camera_info_refused')},
                   'parameter_changes': load.changes, 'parameter_changes_refused': load.refused,
                   # before any frame, after the first interval (warmed up: the baseline to judge growth by), end
                   'rss_start_mb': rss_start, 'rss_first_interval_mb': intervals[0]['rss_mb'], 'rss_end_mb': rss_mb(),
                   'p99_first_interval_ms': intervals[0]['p99_ms'], 'p99_last_interval_ms': last['p99_ms'],
                   'intervals': intervals}
        print(json.dumps(summary))
        return summary
    finally:
        executor.shutdown(timeout_sec=5)
        node.destroy_node()
        client.destroy_node()
        rclpy.shutdown(context=context)


def main(args) -> int:
    """`bench --soak`: run it with the command's arguments."""
    from ..device import resolve_device
    device = str(resolve_device(args.device))
    run_soak(args.minutes, args.interval, args.weights, device, *args.camera, rate_hz=args.rate)
    return 0
