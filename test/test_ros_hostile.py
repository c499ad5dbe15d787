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

"""Hostile inputs to the live node, in one process with real rclpy pub/sub: each bad input costs only itself, and
the other camera's good frames keep coming out.
"""
import io
import threading
import time

import numpy as np
from PIL import Image as PILImage
import pytest

rclpy = pytest.importorskip('rclpy')
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402, I100 (imported after the skip)
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, CompressedImage, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from vision_banana_ros.ros.messages import message_bytes  # noqa: E402

pytestmark = pytest.mark.ros
CAMERAS = ('front', 'left')


class Harness:
    """A node under test, a client node and one executor spinning both in this thread."""

    def __init__(self, node_class, weights, *params, configure=True):
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        overrides = [Parameter('weights', value=str(weights)), Parameter('device', value='cpu'),
                     Parameter('cameras', value=list(CAMERAS)), *params]
        self.node = node_class(context=self.context, parameter_overrides=overrides)
        self.client = rclpy.create_node('vision_banana_hostile_client', context=self.context)
        self.executor = rclpy.executors.SingleThreadedExecutor(context=self.context)
        for n in (self.node, self.client):
            self.executor.add_node(n)
        self.rng = np.random.default_rng(0)
        self.received = {(cam, 'depth'): [] for cam in CAMERAS}
        for cam in CAMERAS:
            self.client.create_subscription(Image, f'{cam}/depth', self.received[(cam, 'depth')].append, 10)
        self.diagnostics = []
        self.client.create_subscription(DiagnosticArray, '/diagnostics', self.diagnostics.append, 10)

    def header(self, cam):
        """A header of camera `cam` stamped now."""
        return Header(frame_id=f'{cam}_optical', stamp=self.client.get_clock().now().to_msg())

    def raw(self, cam, width, height):
        """A random rgb8 Image of camera `cam`."""
        pixels = self.rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        return Image(header=self.header(cam), height=height, width=width, encoding='rgb8', step=width * 3,
                     data=message_bytes(pixels))

    def frame_sender(self, cam, frame):
        """Publish a rendered frame's CameraInfo for camera `cam` (latched) and return send(): one publish of the
        frame's image, stamped now.
        """
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        height, width = frame.rgb.shape[:2]
        k = frame.intrinsics
        self.client.create_publisher(CameraInfo, f'{cam}/camera_info', latched).publish(CameraInfo(
            header=self.header(cam), width=width, height=height,
            k=[k['fx'], 0.0, k['cx'], 0.0, k['fy'], k['cy'], 0.0, 0.0, 1.0]))
        image = self.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data)

        def send():
            image.publish(Image(header=self.header(cam), width=width, height=height, encoding='rgb8',
                                step=width * 3, data=message_bytes(frame.rgb)))
        return send

    def spin_until(self, send, until, seconds=60.0):
        """Call send() and spin, until until() or `seconds` pass; returns until()."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not until():
            send()
            for _ in range(4):
                self.executor.spin_once(timeout_sec=0.05)
        return until()

    def status(self, cam):
        """(level, values) of every diagnostics message about camera `cam`, oldest first."""
        return [(s.level, {kv.key: kv.value for kv in s.values}) for d in self.diagnostics for s in d.status
                if s.name == f'vision_banana: camera {cam}']

    def messages(self, cam):
        """(level, message) of every diagnostics message about camera `cam`, oldest first."""
        return [(s.level, s.message) for d in self.diagnostics for s in d.status
                if s.name == f'vision_banana: camera {cam}']

    def close(self):
        """Destroy both nodes and shut the context down."""
        self.node.destroy_node()
        self.client.destroy_node()
        rclpy.shutdown(context=self.context)


def _bomb_jpeg() -> bytes:
    """A small JPEG whose header claims 9000 x 9000 pixels."""
    buffer = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (64, 96, 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(buffer, format='JPEG', quality=50)
    data = bytearray(buffer.getvalue())
    sof = data.index(b'\xff\xc0')
    data[sof + 5:sof + 9] = (9000).to_bytes(2, 'big') * 2       # height, width
    return bytes(data)


def test_an_image_claiming_too_many_pixels_is_rejected_before_decoding(tiny_weights, monkeypatch):
    from PIL import ImageFile

    from vision_banana_ros.ros.node import VisionBananaNode
    bomb = _bomb_jpeg()
    assert len(bomb) < 4000 and PILImage.open(io.BytesIO(bomb)).size == (9000, 9000)
    decoded = []
    load = ImageFile.ImageFile.load

    def recording_load(picture):
        decoded.append(picture.size)
        return load(picture)
    monkeypatch.setattr(ImageFile.ImageFile, 'load', recording_load)
    h = Harness(VisionBananaNode, tiny_weights, Parameter('transport', value='compressed'))
    try:
        assert h.node.get_parameter('max_input_pixels').value >= 1920 * 1080
        publishers = {cam: h.client.create_publisher(CompressedImage, f'{cam}/image/compressed',
                                                     qos_profile_sensor_data) for cam in CAMERAS}
        good = io.BytesIO()
        PILImage.fromarray(h.rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)).save(good, format='JPEG')
        front, left = (h.node.core.cameras[cam] for cam in CAMERAS)

        def send():
            publishers['front'].publish(CompressedImage(header=h.header('front'), format='jpeg', data=bomb))
            publishers['left'].publish(CompressedImage(header=h.header('left'), format='jpeg',
                                                       data=good.getvalue()))
        assert h.spin_until(send, lambda: front.rejected >= 3 and len(h.received[('left', 'depth')]) >= 2)
        assert (9000, 9000) not in decoded and front.published.total == 0
        # A raw Image claiming too many pixels is rejected the same way (the parameter changes at run time).
        assert h.node.set_parameters([Parameter('max_input_pixels', value=50 * 40)])[0].successful
        assert h.node.core.config.max_input_pixels == 2000
        rejected = left.rejected
        assert h.spin_until(send, lambda: left.rejected >= rejected + 2)     # 96x64 is now too many pixels too
    finally:
        h.close()


def test_raw_image_claiming_too_many_pixels_is_refused_before_its_data_is_read():
    from vision_banana_ros.camera_images import image_to_rgb
    claim = Image(height=9000, width=9000, encoding='rgb8', step=27000, data=bytes(2500))
    with pytest.raises(ValueError, match='max_input_pixels'):
        image_to_rgb(claim, max_pixels=33_554_432)
    small = Image(height=8, width=8, encoding='rgb8', step=24, data=bytes(192))
    assert image_to_rgb(small, max_pixels=64).shape == (8, 8, 3)
    with pytest.raises(ValueError, match='max_input_pixels'):
        image_to_rgb(small, max_pixels=63)


@pytest.mark.parametrize('focal, width, height', [(5e-324, 640, 480), (1e308, 96, 64)])
def test_absurd_camera_info_costs_only_its_camera(tiny_weights, focal, width, height):
    from vision_banana_ros.ros.node import VisionBananaNode
    h = Harness(VisionBananaNode, tiny_weights, Parameter('max_wait_ms', value=500.0))   # both in one batch
    try:
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data) for cam in CAMERAS}
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        infos = {cam: h.client.create_publisher(CameraInfo, f'{cam}/camera_info', latched) for cam in CAMERAS}
        for cam, f in (('front', width / 2.0), ('left', focal)):     # front's is good, left's absurd
            infos[cam].publish(CameraInfo(header=h.header(cam), width=width, height=height,
                                          k=[f, 0.0, width / 2, 0.0, f, height / 2, 0.0, 0.0, 1.0]))
        front, left = (h.node.core.cameras[cam] for cam in CAMERAS)
        assert h.spin_until(lambda: None, lambda: left.info is not None and front.info is not None, 20)

        def send():
            for cam in CAMERAS:
                images[cam].publish(h.raw(cam, width, height))
        assert h.spin_until(send, lambda: all(len(h.received[(cam, 'depth')]) >= 2 for cam in CAMERAS))
        assert left.fallback_intrinsics and not front.fallback_intrinsics
        assert h.node.core.engine.stats.snapshot()['counts'].get('failed', 0) == 0
    finally:
        h.close()


def test_a_camera_whose_frames_fail_goes_error_and_the_other_carries_on(tiny_weights):
    from vision_banana_ros.ros.node import VisionBananaNode
    h = Harness(VisionBananaNode, tiny_weights, Parameter('max_wait_ms', value=500.0),
                Parameter('diagnostics_period', value=0.5))
    try:
        runner = h.node.core.engine.runner
        run = runner.run

        def poisoned(requests):   # every frame of the left camera breaks the network
            if any(r.camera_id == 'left' for r in requests):
                raise RuntimeError('poison frame')
            return run(requests)
        runner.run = poisoned
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data) for cam in CAMERAS}

        def send():
            for cam in CAMERAS:
                images[cam].publish(h.raw(cam, 96, 64))

        def reported():
            errors = [v for level, v in h.status('left') if level == DiagnosticStatus.ERROR]
            return (any(int(v['frames_failed']) >= 2 for v in errors)
                    and len(h.received[('front', 'depth')]) >= 3)
        assert h.spin_until(send, reported)
        assert not h.received[('left', 'depth')]
        assert h.status('front')[-1][0] == DiagnosticStatus.OK
    finally:
        h.close()


def test_nothing_is_published_after_deactivate(tiny_weights):
    from vision_banana_ros.ros.node import VisionBananaLifecycleNode
    h = Harness(VisionBananaLifecycleNode, tiny_weights)
    try:
        h.node.trigger_configure()
        h.node.trigger_activate()
        engine = h.node.core.engine
        runner = engine.runner
        run, entered, release = runner.run, threading.Event(), threading.Event()

        def held(requests):       # the batch in flight when deactivate comes
            entered.set()
            assert release.wait(60)
            return run(requests)
        runner.run = held
        image = h.client.create_publisher(Image, 'front/image', qos_profile_sensor_data)
        assert h.spin_until(lambda: image.publish(h.raw('front', 96, 64)), entered.is_set)
        h.node.trigger_deactivate()
        release.set()
        engine._worker.join(60)
        assert not engine._worker.is_alive()
        for _ in range(20):       # anything published would arrive within these spins
            h.executor.spin_once(timeout_sec=0.05)
        assert not h.received[('front', 'depth')]
        assert engine.stats.snapshot()['counts'].get('processed', 0) == 1     # it ran, and was not published
    finally:
        h.close()


def test_camera_info_with_nan_distortion_is_refused_for_its_camera(tiny_weights):
    from vision_banana_ros.ros.node import VisionBananaNode
    h = Harness(VisionBananaNode, tiny_weights, Parameter('diagnostics_period', value=0.5))
    try:
        images = {cam: h.client.create_publisher(Image, f'{cam}/image', qos_profile_sensor_data) for cam in CAMERAS}
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        infos = {cam: h.client.create_publisher(CameraInfo, f'{cam}/camera_info', latched) for cam in CAMERAS}
        depth_infos = {cam: [] for cam in CAMERAS}
        for cam in CAMERAS:
            h.client.create_subscription(CameraInfo, f'{cam}/depth/camera_info', depth_infos[cam].append, 10)
        k = [48.0, 0.0, 48.0, 0.0, 48.0, 32.0, 0.0, 0.0, 1.0]
        for cam, d in (('front', [float('nan'), 0.0, 0.0, 0.0, 0.0]), ('left', [0.1, 0.01, 0.0, 0.0, 0.0])):
            infos[cam].publish(CameraInfo(header=h.header(cam), width=96, height=64, k=k, d=d,
                                          distortion_model='plumb_bob'))
        front, left = (h.node.core.cameras[cam] for cam in CAMERAS)
        assert h.spin_until(lambda: None, lambda: left.info is not None and front.info is not None, 20)

        def send():
            for cam in CAMERAS:
                images[cam].publish(h.raw(cam, 96, 64))

        assert h.spin_until(send, lambda: all(len(depth_infos[cam]) >= 2 for cam in CAMERAS))
        assert all(np.isfinite(m.d).all() and not any(m.d) for m in depth_infos['front'])
        assert front.fallback_intrinsics and not left.fallback_intrinsics
        assert list(depth_infos['left'][-1].d) == pytest.approx([0.1, 0.01, 0.0, 0.0, 0.0])
        assert h.spin_until(send, lambda: any(int(v.get('camera_info_refused', 0)) >= 1 for _, v in h.status('front')))
        assert h.status('front')[-1][1]['intrinsics'] == 'fallback_hfov_deg'
    finally:
        h.close()
