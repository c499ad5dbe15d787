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

"""Image conversion on synthetic messages of every encoding and on real camera bags (rosbags reads them)."""
import io
from pathlib import Path
import struct

import numpy as np
from PIL import Image as PILImage
import pytest

pytest.importorskip('rclpy')
from sensor_msgs.msg import CompressedImage, Image  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from vision_banana_ros.camera_images import compressed_to_rgb, image_to_rgb  # noqa: E402
from vision_banana_ros.ros.messages import array_to_image, message_bytes  # noqa: E402

BAGS = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'real_bags'
RGB = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)


def make_image(encoding, pixels, pad=0, bigendian=False):
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1).view(np.uint8) if pixels.dtype != np.uint8 else pixels.reshape(h, -1)
    rows = np.concatenate([rows, np.zeros((h, pad), np.uint8)], axis=1)
    return Image(height=h, width=w, encoding=encoding, is_bigendian=bigendian, step=rows.shape[1],
                 data=message_bytes(rows))


@pytest.mark.parametrize('encoding, pixels', [
    ('rgb8', RGB), ('bgr8', RGB[..., ::-1]), ('rgba8', np.dstack([RGB, np.full(RGB.shape[:2], 7, np.uint8)])),
    ('bgra8', np.dstack([RGB[..., ::-1], np.full(RGB.shape[:2], 7, np.uint8)]))])
def test_colour_encodings_with_row_padding(encoding, pixels):
    np.testing.assert_array_equal(image_to_rgb(make_image(encoding, np.ascontiguousarray(pixels), pad=5)), RGB)


def test_mono_encodings():
    mono = RGB[..., 0]
    np.testing.assert_array_equal(image_to_rgb(make_image('mono8', mono)), np.dstack([mono] * 3))
    mono16 = mono.astype(np.uint16) * 257
    np.testing.assert_array_equal(image_to_rgb(make_image('mono16', mono16)), np.dstack([mono] * 3))
    big = make_image('mono16', mono16.byteswap(), bigendian=True)
    np.testing.assert_array_equal(image_to_rgb(big), np.dstack([mono] * 3))


def test_yuv422_variants_decode_grey_and_order():
    # Y=126 with neutral chroma is mid grey; UYVY and YUYV differ only in byte order.
    uyvy = np.array([[128, 126, 128, 200]], np.uint8).reshape(1, 1, 4).repeat(2, 0)
    yuyv = uyvy[..., [1, 0, 3, 2]]
    a = image_to_rgb(Image(height=2, width=2, encoding='yuv422', step=4, data=message_bytes(uyvy)))
    b = image_to_rgb(Image(height=2, width=2, encoding='yuv422_yuy2', step=4, data=message_bytes(yuyv)))
    np.testing.assert_array_equal(a, b)
    assert abs(int(a[0, 0, 0]) - 128) <= 1 and (a[0, 0] == a[0, 0, 0]).all() and a[0, 1, 0] > a[0, 0, 0]


@pytest.mark.parametrize('msg, message', [
    (Image(height=2, width=2, encoding='16UC1', step=4, data=bytes(8)), 'unsupported image encoding'),
    (Image(height=2, width=2, encoding='rgb8', step=4, data=bytes(12)), 'step'),
    (Image(height=2, width=2, encoding='rgb8', step=6, data=bytes(5)), 'bytes'),
    (Image(height=0, width=2, encoding='rgb8', step=6), 'empty'),
])
def test_bad_images_raise_clear_errors(msg, message):
    with pytest.raises(ValueError, match=message):
        image_to_rgb(msg)


def test_compressed_jpeg_png_and_garbage():
    yy, xx = np.mgrid[0:48, 0:64]
    smooth = np.dstack([xx * 4, yy * 5, 255 - xx * 2]).astype(np.uint8)  # JPEG keeps smooth pictures
    for fmt in ('PNG', 'JPEG'):
        buffer = io.BytesIO()
        PILImage.fromarray(smooth).save(buffer, format=fmt, quality=95)
        out = compressed_to_rgb(CompressedImage(format=fmt.lower(), data=buffer.getvalue()))
        assert out.shape == smooth.shape and np.abs(out.astype(int) - smooth).mean() < (0.5 if fmt == 'PNG' else 3)
    with pytest.raises(ValueError, match='cannot decode'):
        compressed_to_rgb(CompressedImage(format='jpeg', data=b'not a jpeg'))
    # Corrupt size bytes in the frame header: 65000 x 65000 pixels claimed, which PIL refuses as a "bomb".
    jpeg = bytearray(buffer.getvalue())
    sof = jpeg.index(b'\xff\xc0')
    jpeg[sof + 5:sof + 9] = (65000).to_bytes(2, 'big') * 2
    with pytest.raises(ValueError, match='cannot decode'):
        compressed_to_rgb(CompressedImage(format='jpeg', data=bytes(jpeg)))


def _png16(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(values.astype(np.uint16)).save(buffer, format='PNG')
    return buffer.getvalue()


def test_a_mono16_camera_compressed_as_png_decodes_as_mono16_does():
    """image_transport's compressed plugin sends mono16 (thermal, IR) as a 16-bit PNG: scaled by 1/257, not refused."""
    values = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 21
    out = compressed_to_rgb(CompressedImage(format='mono16; png compressed mono16', data=_png16(values)))
    raw = image_to_rgb(Image(height=48, width=64, encoding='mono16', step=128, data=values.astype('<u2').tobytes()))
    np.testing.assert_array_equal(out, raw)


def test_depth_compressed_as_image_transport_writes_it():
    """16UC1 as a 16-bit PNG of millimetres (compressed and compressedDepth), 32FC1 as compressedDepth's quantised
    inverse depth (metres = A / (value - B)); 0 is no measurement either way.
    """
    from vision_banana_ros.camera_images import depth_image_to_metres
    millimetres = np.array([[0, 1500, 2000, 65535]])
    for fmt, header in (('16UC1; png compressed 16UC1', b''),
                        ('16UC1; compressedDepth png', struct.pack('<iff', 0, 0.0, 0.0))):
        out = depth_image_to_metres(CompressedImage(format=fmt, data=header + _png16(millimetres)))
        np.testing.assert_allclose(out, [[np.nan, 1.5, 2.0, 65.535]], rtol=1e-6)
    a, b = 100.0, 10.0                  # compressed_depth_image_transport's defaults: quantisation 100, 10 m
    metres = np.array([[0.0, 1.0, 2.0, 4.0]])
    values = np.where(metres > 0, a / np.where(metres > 0, metres, 1) + b, 0).round()
    out = depth_image_to_metres(CompressedImage(format='32FC1; compressedDepth png',
                                                data=struct.pack('<iff', 0, a, b) + _png16(values)))
    np.testing.assert_allclose(out, [[np.nan, 1.0, 2.0, 4.0]], rtol=1e-6)
    with pytest.raises(ValueError, match='unsupported compressed depth format'):
        depth_image_to_metres(CompressedImage(format='32FC1; png compressed', data=_png16(values)))


def test_outputs_round_trip_through_numpy():
    header = Header(frame_id='cam_optical')
    header.stamp.sec = 12
    rng = np.random.default_rng(1)
    for values in (RGB, RGB[..., 0], rng.random((4, 5), np.float32), rng.random((4, 5, 3), np.float32)):
        msg = array_to_image(values, header)
        assert msg.header.frame_id == 'cam_optical' and msg.header.stamp.sec == 12
        back = np.frombuffer(bytes(msg.data), values.dtype).reshape(values.shape)
        np.testing.assert_array_equal(back, values)
    assert array_to_image(RGB, header).encoding == 'rgb8'
    assert array_to_image(np.zeros((2, 2), np.float32), header).encoding == '32FC1'
    with pytest.raises(ValueError, match='no image encoding'):
        array_to_image(np.zeros((2, 2), np.int32), header)


def _real_messages(bag, wanted):
    from rosbags.highlevel import AnyReader
    with AnyReader([bag]) as reader:
        for conn, _, raw in reader.messages([c for c in reader.connections if c.msgtype == wanted]):
            yield conn.topic, reader.deserialize(raw, conn.msgtype)


@pytest.mark.skipif(not BAGS.is_dir(), reason='shared real bags not present')
def test_real_camera_bags_decode():
    seen = {}
    for topic, m in _real_messages(BAGS / 'spot_raw_ros1.bag', 'sensor_msgs/msg/Image'):
        msg = Image(height=m.height, width=m.width, encoding=m.encoding, is_bigendian=bool(m.is_bigendian),
                    step=m.step, data=message_bytes(m.data))
        if m.encoding == '16UC1':
            with pytest.raises(ValueError, match='16UC1'):
                image_to_rgb(msg)
            continue
        rgb = image_to_rgb(msg)
        assert rgb.shape == (m.height, m.width, 3) and rgb.std() > 5  # a real picture, not a flat field
        seen[m.encoding] = topic
    assert {'rgb8', 'mono8'} <= set(seen)
    for bag in (BAGS / 'spot_compressed_ros1.bag', BAGS / 'raspicam_aruco_mcap'):
        for topic, m in _real_messages(bag, 'sensor_msgs/msg/CompressedImage'):
            msg = CompressedImage(format=m.format, data=bytes(m.data))
            if 'depth' in topic:
                continue
            rgb = compressed_to_rgb(msg)
            assert rgb.ndim == 3 and rgb.std() > 5
