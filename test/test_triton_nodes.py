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

"""Two node processes of two cameras each, `backend: triton`, one `vision_banana serve` on localhost: every camera's
outputs are those of the in-process unified backend for the same frames, and a server that goes away mid-stream
costs only the frames sent while it is away (failed and counted); the nodes recover by themselves.
"""
import os
from pathlib import Path
import subprocess
import sys
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
pytest.importorskip('tritonclient.grpc')
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402, I100 (imported after the skips)
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from vision_banana_ros.backends.unified import UnifiedBackend  # noqa: E402
from vision_banana_ros.engine import BatchRunner, FrameRequest  # noqa: E402
from vision_banana_ros.ros.messages import message_bytes  # noqa: E402
from vision_banana_ros.serving.server import free_ports, TritonServer  # noqa: E402

CONFIG = Path(__file__).resolve().parents[1] / 'config' / 'vision_banana.yaml'
NODE = Path(sys.executable).parent / 'vision_banana_node'
NODES = {'vision_banana_a': ('a1', 'a2'), 'vision_banana_b': ('b1', 'b2')}
CAMERAS = [c for cams in NODES.values() for c in cams]
W, H = 320, 240
pytestmark = pytest.mark.ros


def start_node(name, cameras, weights, url):
    params = ['backend:=triton', f'triton_url:={url}', f'weights:={weights}', 'device:=cpu',
              f'cameras:=[{", ".join(cameras)}]', 'tasks:=[segmentation, depth]', 'max_wait_ms:=20.0',
              'triton_timeout_s:=20.0', 'diagnostics_period:=0.5', 'image_qos_reliability:=reliable']
    args = [str(NODE), '--ros-args', '-r', f'__node:={name}', '--params-file', str(CONFIG),
            *[a for p in params for a in ('-p', p)]]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())


class Client:
    """Publishes one image per camera at a time and keeps what comes back, by (camera, stamp)."""

    def __init__(self):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = rclpy.create_node('triton_test_client', context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.sent, self.labels, self.depth, self.failed = {}, {}, {}, {}
        self.rng = np.random.default_rng(0)
        reliable = QoSProfile(depth=5, reliability=ReliabilityPolicy.RELIABLE)   # no frame lost on the way
        self.publishers = {c: self.node.create_publisher(Image, f'{c}/image', reliable) for c in CAMERAS}
        for cam in CAMERAS:
            self.node.create_subscription(Image, f'{cam}/semantic/labels', self._keep(cam, self.labels, np.uint8), 20)
            self.node.create_subscription(Image, f'{cam}/depth', self._keep(cam, self.depth, np.float32), 20)
        self.node.create_subscription(DiagnosticArray, '/diagnostics', self._diagnostics, 50)

    @staticmethod
    def _keep(cam, into, dtype):
        def keep(msg):
            key = (cam, msg.header.stamp.sec, msg.header.stamp.nanosec)
            into[key] = np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width)
        return keep

    def _diagnostics(self, msg):
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            for cam in CAMERAS:
                if status.name.endswith(f': camera {cam}'):
                    self.failed[cam] = int(values['frames_failed'])

    def spin(self, seconds):
        """Take messages for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=0.02)

    def publish_round(self) -> list:
        """One random frame on every camera, all with the same stamp; their keys."""
        stamp = self.node.get_clock().now().to_msg()
        keys = []
        for cam, publisher in self.publishers.items():
            pixels = self.rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
            msg = Image(height=H, width=W, encoding='rgb8', step=W * 3, data=message_bytes(pixels))
            msg.header.stamp, msg.header.frame_id = stamp, f'{cam}_optical'
            publisher.publish(msg)
            keys.append((cam, stamp.sec, stamp.nanosec))
            self.sent[keys[-1]] = pixels
        return keys

    def answered(self, keys) -> bool:
        """Whether every frame of `keys` has its labels and depth back."""
        return all(k in self.labels and k in self.depth for k in keys)

    def close(self):
        """Leave the ROS graph."""
        self.node.destroy_node()
        rclpy.shutdown(context=self.context)


def test_two_nodes_share_one_server_that_may_go_away(tiny_weights):
    grpc, http, metrics = free_ports(3)
    server = TritonServer(tiny_weights, grpc_port=grpc, http_port=http, metrics_port=metrics, max_batch=8).start()
    nodes = [start_node(name, cams, tiny_weights, server.url) for name, cams in NODES.items()]
    client = Client()
    try:
        deadline = time.monotonic() + 90
        while True:                 # until both nodes run and their outputs are matched with this client
            assert time.monotonic() < deadline and all(n.poll() is None for n in nodes), 'the nodes never answered'
            keys, waited = client.publish_round(), time.monotonic() + 10
            while not client.answered(keys) and time.monotonic() < waited:
                client.spin(0.1)
            if client.answered(keys):
                break
        client.spin(1.0)
        counted = sum(client.failed.values())    # frames failed so far (none: nothing failed before)
        answered, lost = [], []

        def one_round(phase):
            """A frame on every camera, then wait until each is answered or counted as failed; True if answered."""
            nonlocal counted
            keys = client.publish_round()
            deadline = time.monotonic() + 60
            while True:
                done = [k for k in keys if k in client.labels and k in client.depth]
                failed = sum(client.failed.values()) - counted
                if len(done) + failed >= len(keys):
                    break
                assert time.monotonic() < deadline, f'{phase}: {done} answered, {failed} failed'
                client.spin(0.1)
            counted += failed
            answered.extend(done)
            lost.extend(k for k in keys if k not in done)
            return len(done) == len(keys)

        assert all(one_round('served') for _ in range(3))   # served: every frame answered
        server.stop()
        assert not any(one_round('away') for _ in range(2))   # away: every frame fails, and is counted
        server.start()
        deadline = time.monotonic() + 60
        while not one_round('back'):                      # back: fails until each node's back-off ends
            assert time.monotonic() < deadline, 'the nodes did not recover'
        assert all(one_round('after') for _ in range(2))
        assert len(lost) >= 2 * len(CAMERAS) and sum(client.failed.values()) == len(lost)
    finally:
        client.close()
        for node in nodes:
            node.terminate()
        for node in nodes:
            try:
                node.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.kill()
        server.stop()
    # The frames the server answered are the in-process backend's answers for the same images.
    runner = BatchRunner(UnifiedBackend(tiny_weights), ('segmentation', 'depth'))
    agree, total = 0, 0
    for start in range(0, len(answered), 4):
        keys = answered[start:start + 4]
        for key, result in zip(keys, runner.run([FrameRequest(k[0], client.sent[k]) for k in keys])):
            agree += int((result.labels == client.labels[key]).sum())
            total += result.labels.size
            np.testing.assert_allclose(client.depth[key], result.depth, rtol=1e-4)
    assert agree / total >= 0.999
