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

"""The live node's hostile-input table: each case sends the front camera malformed or awkward Image,
CompressedImage or CameraInfo messages while the left camera sends good frames. For every case the node survives,
counts what happened (rejected, refused, a stamp jump) or answers with the right intrinsics, and keeps answering
the left camera.
Parameter files, weights files and bags have their own hostile tests (test_config_file, test_bag_hostile).
"""
import io
import time

import numpy as np
from PIL import Image as PILImage
import pytest

rclpy = pytest.importorskip('rclpy')
from builtin_interfaces.msg import Time  # noqa: E402, I100 (imported after the skip)
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import DurabilityPolicy, qos_profile_sensor_data, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, RegionOfInterest  # noqa: E402
from std_msgs.msg import Header  # noqa: E402
from test_ros_hostile import Harness  # noqa: E402

from vision_banana_ros.ros.messages import message_bytes  # noqa: E402

pytestmark = pytest.mark.ros
W, H = 96, 64
RNG = np.random.default_rng(5)


def _pixels(width=W, height=H, channels=3):
    return RNG.integers(0, 256, (height, width, channels), dtype=np.uint8)


def _image(h, i, width=W, height=H, encoding='rgb8', channels=3, **fields):
    fields.setdefault('step', width * channels)
    fields.setdefault('data', message_bytes(_pixels(width, height, channels)))
    return Image(header=fields.pop('header', h.header('front')), height=height, width=width, encoding=encoding,
                 **fields)


def _encoded(fmt, pixels=None):
    buffer = io.BytesIO()
    PILImage.fromarray(_pixels() if pixels is None else pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def _compressed(h, i, data, fmt='jpeg'):
    return CompressedImage(header=h.header('front'), format=fmt, data=data)


def _info(h, i, width=2 * W, height=2 * H, f=100.0, **fields):
    fields.setdefault('k', [f, 0.0, width / 2, 0.0, f, height / 2, 0.0, 0.0, 1.0])
    return CameraInfo(header=h.header('front'), width=width, height=height, distortion_model='plumb_bob',
                      d=fields.pop('d', [0.0] * 5), **fields)


def _going_back(h, i):
    header = h.header('front')
    header.stamp = Time(sec=1_000_000 - i, nanosec=0)     # one second earlier on every message
    return _image(h, i, header=header)


def _changing_size(h, i):
    width, height = ((96, 64), (64, 48), (128, 96), (80, 60))[i % 4]
    return _image(h, i, width, height)


def _alternating_encoding(h, i):
    encoding, channels = (('rgb8', 3), ('bgr8', 3), ('mono8', 1), ('rgba8', 4), ('yuv422', 2))[i % 5]
    return _image(h, i, encoding=encoding, channels=channels)


# name -> (transport, front's message i, expected outcome)
RAW, COMPRESSED = 'raw', 'compressed'
CASES = {
    'image_data_short': (RAW, lambda h, i: _image(h, i, data=bytes(W * H)), 'rejected'),
    'image_step_too_small': (RAW, lambda h, i: _image(h, i, step=W * 3 - 1), 'rejected'),
    'image_unknown_encoding': (RAW, lambda h, i: _image(h, i, encoding='rgb7'), 'rejected'),
    'image_depth_encoding': (RAW, lambda h, i: _image(h, i, encoding='16UC1', channels=2), 'rejected'),
    'image_1x1': (RAW, lambda h, i: _image(h, i, 1, 1), 'rejected'),
    'image_zero_width': (RAW, lambda h, i: _image(h, i, 0, H, data=b''), 'rejected'),
    'image_odd_width_yuv': (RAW, lambda h, i: _image(h, i, W - 1, H, encoding='yuv422', channels=2), 'rejected'),
    'image_empty_frame_id': (RAW, lambda h, i: _image(h, i, header=Header(stamp=h.header('front').stamp)),
                             'rejected'),
    'image_row_padding': (RAW, lambda h, i: _image(h, i, step=W * 3 + 32,
                                                   data=bytes((W * 3 + 32) * H)), 'answered'),
    'image_size_changes_every_message': (RAW, _changing_size, 'answered'),
    'image_encoding_alternates': (RAW, _alternating_encoding, 'answered'),
    'image_stamps_going_backwards': (RAW, _going_back, 'stamp_jump'),
    'camera_info_k_all_zero': (RAW, lambda h, i: _info(h, i, k=[0.0] * 9), 'info_refused'),
    'camera_info_nan_distortion': (RAW, lambda h, i: _info(h, i, d=[float('nan')] * 5), 'info_refused'),
    'camera_info_roi_offsets_without_size': (RAW, lambda h, i: _info(h, i, roi=RegionOfInterest(x_offset=8)),
                                             'info_refused'),
    'camera_info_roi_outside_image': (RAW, lambda h, i: _info(h, i, roi=RegionOfInterest(
        x_offset=150, y_offset=0, width=W, height=H)), 'info_refused'),
    # scaled to the images as image_proc's resize scales it, each axis on its own (align_corners=False)
    'camera_info_other_size_than_images': (RAW, lambda h, i: _info(h, i, 1920, 1080),
                                           ('intrinsics', 5.0, 960.5 * W / 1920 - 0.5, 540.5 * H / 1080 - 0.5)),
    'camera_info_roi_mid_stream': (RAW, lambda h, i: _info(h, i, roi=RegionOfInterest(
        x_offset=48, y_offset=32, width=W, height=H)), ('intrinsics', 100.0, 48.0, 32.0)),
    'camera_info_binning_mid_stream': (RAW, lambda h, i: _info(h, i, binning_x=2, binning_y=2),
                                       ('intrinsics', 50.0, 48.0, 32.0)),
    'compressed_garbage': (COMPRESSED, lambda h, i: _compressed(h, i, bytes(RNG.integers(0, 256, 500,
                                                                                         dtype=np.uint8))),
                           'rejected'),
    'compressed_empty': (COMPRESSED, lambda h, i: _compressed(h, i, b''), 'rejected'),
    'compressed_truncated_jpeg': (COMPRESSED, lambda h, i: _compressed(h, i, _encoded('JPEG')[:300]), 'rejected'),
    'compressed_1x1_png': (COMPRESSED, lambda h, i: _compressed(h, i, _encoded('PNG', _pixels(1, 1)), 'png'),
                           'rejected'),
    'compressed_format_says_png_data_is_jpeg': (COMPRESSED, lambda h, i: _compressed(h, i, _encoded('JPEG'), 'png'),
                                                'answered'),
}


def _harness(weights, transport):
    h = Harness(_node_class(), weights, Parameter('transport', value=transport), Parameter('max_wait_ms', value=20.0))
    suffix = '/compressed' if transport == COMPRESSED else ''
    h.images = {cam: h.client.create_publisher(CompressedImage if suffix else Image, f'{cam}/image{suffix}',
                                               qos_profile_sensor_data) for cam in ('front', 'left')}
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    h.info = h.client.create_publisher(CameraInfo, 'front/camera_info', latched)
    h.depth_info = []
    h.client.create_subscription(CameraInfo, 'front/depth/camera_info', h.depth_info.append, 10)
    h.good = (lambda cam: CompressedImage(header=h.header(cam), format='png', data=_encoded('PNG'))) if suffix \
        else (lambda cam: h.raw(cam, W, H))
    return h


def _k(h):
    k = h.depth_info[-1].k
    return k[0], k[2], k[5]


def _node_class():
    from vision_banana_ros.ros.node import VisionBananaNode
    return VisionBananaNode


@pytest.fixture(scope='module')
def nodes(tiny_weights):
    current = {}

    def node_for(transport):
        # one node at a time: a closed harness's late results must not reach the next one's subscriptions
        if transport not in current:
            for h in current.values():
                h.close()
            current.clear()
            current[transport] = _harness(tiny_weights, transport)
        return current[transport]
    yield node_for
    for h in current.values():
        h.close()


def _settle(h, front, front_depth, left_depth, quiet_s=0.5, seconds=15.0):
    """Spin without sending until the previous case's frames are through (the engine idle, nothing counted or
    answered for `quiet_s`): one still being decoded or answered would count against the next case.
    """
    def counts():
        return front.rejected, front.received.total, len(front_depth), len(left_depth)
    deadline, last, since = time.monotonic() + seconds, None, time.monotonic()
    while time.monotonic() < deadline:
        h.executor.spin_once(timeout_sec=0.05)
        now = counts()
        if now != last or h.node.core.engine.queued():
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


@pytest.mark.parametrize('name', CASES)
def test_a_hostile_input_costs_only_itself(nodes, name):
    transport, make, outcome = CASES[name]
    h = nodes(transport)
    front, left = (h.node.core.cameras[cam] for cam in ('front', 'left'))
    front_depth, left_depth = h.received[('front', 'depth')], h.received[('left', 'depth')]
    _settle(h, front, front_depth, left_depth)
    before = {'rejected': front.rejected, 'refused': front.info_refused, 'jumps': front.gaps.jumps_back,
              'front': len(front_depth), 'left': len(left_depth), 'infos': len(h.depth_info)}
    sent = [0]

    def send():
        message = make(h, sent[0])
        if isinstance(message, CameraInfo):
            h.info.publish(message)
            h.images['front'].publish(h.good('front'))
        else:
            h.images['front'].publish(message)
        h.images['left'].publish(h.good('left'))
        sent[0] += 1

    def answered(n):
        return len(front_depth) >= before['front'] + n

    kind = outcome if isinstance(outcome, str) else outcome[0]
    until = {'rejected': lambda: front.rejected >= before['rejected'] + 2,
             'answered': lambda: answered(3),
             'stamp_jump': lambda: front.gaps.jumps_back >= before['jumps'] + 2 and answered(2),
             'info_refused': lambda: front.info_refused > before['refused'] and answered(2)
             and front.fallback_intrinsics,
             'intrinsics': lambda: len(h.depth_info) > before['infos'] and answered(2) and _k(h) == pytest.approx(
                 outcome[1:])}[kind]
    try:
        assert h.spin_until(send, lambda: until() and len(left_depth) >= before['left'] + 2), (
            f'{name}: front rejected {front.rejected - before["rejected"]}, refused '
            f'{front.info_refused - before["refused"]}, answered {len(front_depth) - before["front"]}, '
            f'left answered {len(left_depth) - before["left"]}')
        if kind == 'rejected':
            assert len(front_depth) == before['front']
        elif kind in ('answered', 'stamp_jump'):
            assert front.rejected == before['rejected']
        elif kind == 'intrinsics':
            assert not front.fallback_intrinsics
    finally:
        h.info.publish(_info(h, 0, W, H, f=W / 2))      # a good calibration again for the next case
