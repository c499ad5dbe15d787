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

"""The node and a client in one process: compressed input, the cloud moved by target_transform, and no inference
while nobody listens.
"""
import io
import math
import time

import numpy as np
from PIL import Image as PILImage
import pytest

rclpy = pytest.importorskip('rclpy')
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import qos_profile_sensor_data  # noqa: E402
from sensor_msgs.msg import CompressedImage, Image, PointCloud2  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

pytestmark = pytest.mark.ros


def _jpeg(rng, width=96, height=64) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(buffer, format='JPEG')
    return buffer.getvalue()


def test_compressed_input_cloud_in_the_target_frame_and_no_work_without_listeners(tiny_weights):
    from vision_banana_ros.ros.node import VisionBananaNode
    context = rclpy.Context()
    rclpy.init(context=context)
    params = [Parameter('weights', value=str(tiny_weights)), Parameter('device', value='cpu'),
              Parameter('transport', value='compressed'), Parameter('target_frame', value='base_link'),
              # a quarter turn about z, as [x, y, z, qx, qy, qz, qw]: read in another order it is another turn
              Parameter('target_transform', value=[1.0, 2.0, 3.0, 0.0, 0.0, math.sqrt(0.5), math.sqrt(0.5)]),
              Parameter('cloud_stride', value=1), Parameter('cloud_organized', value=True)]
    node = VisionBananaNode(context=context, parameter_overrides=params)
    client = rclpy.create_node('vision_banana_test_client', context=context)
    executor = rclpy.executors.SingleThreadedExecutor(context=context)
    for n in (node, client):
        executor.add_node(n)
    rng = np.random.default_rng(0)
    publisher = client.create_publisher(CompressedImage, 'image/compressed', qos_profile_sensor_data)
    camera = node.core.cameras['']

    def send_and_spin(seconds, until=lambda: False):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            header = Header(frame_id='cam_optical', stamp=client.get_clock().now().to_msg())
            publisher.publish(CompressedImage(header=header, format='jpeg', data=_jpeg(rng)))
            for _ in range(3):
                executor.spin_once(timeout_sec=0.03)

    try:
        # Nobody subscribes to any output: images arrive, the model never runs.
        send_and_spin(30.0, until=lambda: camera.received.total >= 5)
        assert camera.received.total >= 5 and camera.published.total == 0 and camera.rejected == 0
        assert node.core.engine.stats.snapshot()['counts'].get('batches', 0) == 0      # not run and thrown away
        clouds, depths = [], []
        client.create_subscription(PointCloud2, 'points', clouds.append, 5)
        client.create_subscription(Image, 'depth', depths.append, 5)

        def stamp(msg):
            return (msg.header.stamp.sec, msg.header.stamp.nanosec)

        def pairs():
            return [(c, d) for c in clouds for d in depths if stamp(c) == stamp(d)]   # one frame's outputs
        send_and_spin(30.0, until=pairs)
        assert pairs()
        cloud, depth = pairs()[0]
        assert cloud.header.frame_id == 'base_link' and depth.header.frame_id == 'cam_optical'
        metres = np.frombuffer(bytes(depth.data), np.float32).reshape(depth.height, depth.width)
        assert (depth.width, depth.height) == (96, 64) == (cloud.width, cloud.height)    # organized: a pixel each
        points = np.frombuffer(bytes(cloud.data), np.float32).reshape(64, 96, -1)[..., :3]
        # each pixel back-projected through the fallback 90-degree camera (no CameraInfo), turned, moved
        focal, (v, u) = 48.0, np.mgrid[0:64, 0:96]
        optical = np.stack([(u - 47.5) * metres / focal, (v - 31.5) * metres / focal, metres], -1)
        turned = optical @ np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]).T + [1.0, 2.0, 3.0]
        shown = np.isfinite(points).all(-1)
        assert shown.sum() > 100
        np.testing.assert_allclose(points[shown], turned[shown], rtol=1e-4, atol=1e-4)
    finally:
        node.destroy_node()
        client.destroy_node()
        rclpy.shutdown(context=context)
