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

"""The node in its own process, fed by a publisher in this one: real rclpy and Fast DDS on localhost."""
import os
from pathlib import Path
import subprocess
import sys
import time

import numpy as np
import pytest

rclpy = pytest.importorskip('rclpy')
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402, I100 (imported after the rclpy skip)
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image, PointCloud2  # noqa: E402

from vision_banana_ros.ros.messages import message_bytes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NODE = Path(sys.executable).parent / 'vision_banana_node'
OUTPUTS = {'semantic/labels': Image, 'semantic/color': Image, 'semantic/confidence': Image, 'depth': Image,
           'depth/camera_info': CameraInfo, 'normals': Image, 'normals/raw': Image, 'points': PointCloud2}
W, H = 640, 480

pytestmark = pytest.mark.ros


def start_node(weights, *params):
    args = [str(NODE), '--ros-args', '--params-file', str(ROOT / 'config' / 'vision_banana.yaml'),
            '-p', f'weights:={weights}', '-p', 'device:=cpu', *[a for p in params for a in ('-p', p)]]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())


@pytest.fixture(scope='module')
def weights(tiny_weights):
    return tiny_weights


def camera_info(stamp, frame_id):
    # A 1280x960 calibration for 640x480 images: the node must scale it.
    return CameraInfo(header=_header(stamp, frame_id), width=1280, height=960, distortion_model='plumb_bob',
                      d=[0.0] * 5, k=[1000.0, 0, 640.0, 0, 1000.0, 480.0, 0, 0, 1],
                      r=[1.0, 0, 0, 0, 1, 0, 0, 0, 1], p=[1000.0, 0, 640, 0, 0, 1000, 480, 0, 0, 0, 1, 0])


def _header(stamp, frame_id):
    from std_msgs.msg import Header
    h = Header(frame_id=frame_id)
    h.stamp = stamp
    return h


def image_msg(stamp, frame_id, rng):
    pixels = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    return Image(header=_header(stamp, frame_id), height=H, width=W, encoding='rgb8', step=W * 3,
                 data=message_bytes(pixels))


def test_node_publishes_every_output_for_two_batched_cameras(weights):
    node_process = start_node(weights, 'cameras:=[front, left]', 'publish_confidence:=true', 'max_wait_ms:=50.0',
                              'cloud_normals:=true')
    context = rclpy.Context()
    rclpy.init(context=context)
    test_node = rclpy.create_node('vision_banana_test_client', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    executor.add_node(test_node)
    received = {}
    diagnostics = []
    try:
        for cam in ('front', 'left'):
            for topic, msg_type in OUTPUTS.items():
                test_node.create_subscription(msg_type, f'{cam}/{topic}',
                                              lambda m, key=(cam, topic): received.setdefault(key, m), 5)
        test_node.create_subscription(DiagnosticArray, '/diagnostics', diagnostics.append, 10)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        info_pub = {cam: test_node.create_publisher(CameraInfo, f'{cam}/camera_info', latched) for cam in ('front',)}
        image_pub = {cam: test_node.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data)
                     for cam in ('front', 'left')}
        rng = np.random.default_rng(0)
        stamps = {}
        deadline = time.monotonic() + 60
        sent = 0

        def front_status():
            """The front camera's diagnostics values, newest last."""
            return [{kv.key: kv.value for kv in s.values} for d in diagnostics for s in d.status
                    if s.name == 'vision_banana: camera front']

        def reported():  # a diagnostics message has seen the bad frame and published frames of the front camera
            return any(int(v['frames_rejected']) >= 1 and int(v['frames_published']) >= 1 for v in front_status())

        while time.monotonic() < deadline and (len(received) < 2 * len(OUTPUTS) or not reported()):
            assert node_process.poll() is None, node_process.stdout.read()
            stamp = test_node.get_clock().now().to_msg()
            info_pub['front'].publish(camera_info(stamp, 'front_optical'))
            if sent % 5 == 3:  # bad frames: counted as rejected, the node carries on
                image_pub['front'].publish(Image(header=_header(stamp, 'front_optical'), height=2, width=2,
                                                 encoding='16UC1', step=4, data=bytes(8)))
            for cam in ('front', 'left'):
                msg = image_msg(stamp, f'{cam}_optical', rng)
                stamps[(stamp.sec, stamp.nanosec)] = True
                image_pub[cam].publish(msg)
            sent += 1
            executor.spin_once(timeout_sec=0.1)
            for _ in range(3):
                executor.spin_once(timeout_sec=0.05)
        missing = sorted({(c, t) for c in ('front', 'left') for t in OUTPUTS} - set(received))
        assert not missing, f'never received {missing}'
        for (cam, topic), msg in received.items():
            assert msg.header.frame_id == f'{cam}_optical', (cam, topic)
            assert (msg.header.stamp.sec, msg.header.stamp.nanosec) in stamps, (cam, topic)
            if isinstance(msg, Image):
                assert (msg.width, msg.height) == (W, H), (cam, topic)
        enc = {t: received[('front', t)].encoding for t in OUTPUTS if OUTPUTS[t] is Image}
        assert enc == {'semantic/labels': 'mono8', 'semantic/color': 'rgb8', 'semantic/confidence': '32FC1',
                       'depth': '32FC1', 'normals': 'rgb8', 'normals/raw': '32FC3'}
        labels = np.frombuffer(bytes(received[('front', 'semantic/labels')].data), np.uint8)
        assert set(np.unique(labels)) <= set(range(19)) | {255}
        depth = np.frombuffer(bytes(received[('front', 'depth')].data), np.float32)
        finite = depth[np.isfinite(depth)]
        assert finite.size and (finite > 0).all()          # metres, REP 118
        info = received[('front', 'depth/camera_info')]
        assert (info.width, info.height) == (W, H) and info.k[0] == pytest.approx(500.0)
        cloud = received[('front', 'points')]
        assert [f.name for f in cloud.fields] == ['x', 'y', 'z', 'rgb', 'label', 'normal_x', 'normal_y', 'normal_z']
        assert cloud.point_step == 32 and cloud.row_step == cloud.point_step * cloud.width
        assert reported()
        front = front_status()[-1]
        assert float(front['input_hz']) > 0 and float(front['latency_ms_p50']) > 0
        assert front['intrinsics'] == 'camera_info'
        left = [{kv.key: kv.value for kv in s.values} for d in diagnostics for s in d.status
                if s.name == 'vision_banana: camera left'][-1]
        assert left['intrinsics'] == 'fallback_hfov_deg'                 # no CameraInfo is sent for it
        status = {s.name: {kv.key: kv.value for kv in s.values} for s in diagnostics[-1].status}
        assert 'batch_size_mean' in status['vision_banana: engine']
    finally:
        node_process.terminate()
        try:
            node_process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            node_process.kill()
        test_node.destroy_node()
        rclpy.shutdown(context=context)


def test_bad_configuration_fails_at_start_with_the_parameter_named(weights):
    process = start_node(weights, 'precision:=fp8')
    out, _ = process.communicate(timeout=60)
    assert process.returncode != 0 and 'precision' in out
    process = start_node(weights, 'weights:=/nonexistent/w.safetensors')
    out, _ = process.communicate(timeout=60)
    assert process.returncode != 0 and '/nonexistent/w.safetensors' in out
    process = start_node(weights, 'max_wait_ms:=5')   # an integer where a double is declared: rclpy refuses it
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 2 and 'max_wait_ms' in out and 'Traceback' not in out
