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

"""Camera image messages -> H x W x 3 uint8 RGB, for rclpy and rosbags messages alike (only their fields are read).

sensor_msgs/Image in rgb8, bgr8, rgba8, bgra8, mono8, mono16 (scaled by 1/257), yuv422 (UYVY) or yuv422_yuy2
(YUYV, BT.601); sensor_msgs/CompressedImage in JPEG or PNG (16-bit grey PNGs, as mono16 compresses, scaled as
mono16). Anything else is a ValueError that names the encoding, so the node can warn and count the frame as
rejected. Depth camera images (16UC1, 32FC1, raw or as image_transport's compressed and compressedDepth plugins
write them) -> metres, label images (mono8 train ids) -> ids. No cv_bridge and no rclpy needed.
"""
from __future__ import annotations

import io
import struct

import numpy as np
from PIL import Image as PILImage

CAMERA_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', 'yuv422', 'yuv422_yuy2')
_BYTES_PER_PIXEL = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2, 'yuv422': 2,
                    'yuv422_yuy2': 2}


def _rows(msg, bytes_per_pixel: int) -> np.ndarray:
    if msg.height == 0 or msg.width == 0:
        raise ValueError(f'empty image ({msg.width}x{msg.height})')
    row = msg.width * bytes_per_pixel
    if msg.step < row:
        raise ValueError(f'{msg.encoding} image step {msg.step} < width {msg.width} x {bytes_per_pixel} bytes')
    data = np.frombuffer(memoryview(msg.data), dtype=np.uint8)
    if data.size < msg.step * msg.height:
        raise ValueError(f'{msg.encoding} image has {data.size} bytes, needs step x height = {msg.step * msg.height}')
    return data[:msg.step * msg.height].reshape(msg.height, msg.step)[:, :row]


def _yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    c, d, e = y.astype(np.float32) - 16.0, u.astype(np.float32) - 128.0, v.astype(np.float32) - 128.0
    rgb = np.stack([1.164 * c + 1.596 * e, 1.164 * c - 0.392 * d - 0.813 * e, 1.164 * c + 2.017 * d], axis=-1)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _check_pixels(width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        raise ValueError(f'image of {width}x{height} = {width * height} pixels exceeds max_input_pixels = {max_pixels}')


def image_to_rgb(msg, max_pixels: int | None = None) -> np.ndarray:
    """sensor_msgs/Image (camera encodings above) -> H x W x 3 uint8 RGB; more than `max_pixels` is a ValueError."""
    _check_pixels(msg.width, msg.height, max_pixels)
    encoding = msg.encoding.lower()
    if encoding not in _BYTES_PER_PIXEL:
        raise ValueError(f'unsupported image encoding {msg.encoding!r} (supported: {", ".join(CAMERA_ENCODINGS)})')
    rows = _rows(msg, _BYTES_PER_PIXEL[encoding])
    h, w = msg.height, msg.width
    if encoding in ('rgb8', 'bgr8', 'rgba8', 'bgra8'):
        pixels = rows.reshape(h, w, len(encoding) - 1)[..., :3]
        return np.ascontiguousarray(pixels[..., ::-1] if encoding.startswith('bgr') else pixels)
    if encoding == 'mono8':
        return np.repeat(rows[..., None], 3, axis=2)
    if encoding == 'mono16':
        return _mono16_to_rgb(rows.view('>u2' if msg.is_bigendian else '<u2').reshape(h, w))
    if w % 2:
        raise ValueError(f'{msg.encoding} image width {w} must be even')
    pairs = rows.reshape(h, w // 2, 4)
    # UYVY (yuv422) and YUYV (yuv422_yuy2): two pixels share one U and one V.
    u, y0, v, y1 = (pairs[..., i] for i in ((0, 1, 2, 3) if encoding == 'yuv422' else (1, 0, 3, 2)))
    y = np.stack([y0, y1], axis=-1).reshape(h, w)
    return _yuv_to_rgb(y, np.repeat(u, 2, axis=1), np.repeat(v, 2, axis=1))


def _mono16_to_rgb(grey: np.ndarray) -> np.ndarray:
    """H x W 16-bit grey values -> H x W x 3 uint8, scaled by 1/257 (65535 is 255)."""
    return np.repeat((grey // 257).astype(np.uint8)[..., None], 3, axis=2)


SIXTEEN_BIT_GREY = ('I;16', 'I;16B', 'I;16L', 'I')     # PIL's modes of a 16-bit grey PNG


def picture_to_rgb(picture: PILImage.Image) -> np.ndarray:
    """A decoded picture -> H x W x 3 uint8 RGB; 16-bit grey scaled by 1/257 as mono16 is (PIL's own conversion
    clips it to white).
    """
    if picture.mode in SIXTEEN_BIT_GREY:    # ('I' holds 32-bit ints: clipped to the 16 bits a grey PNG has)
        return _mono16_to_rgb(np.clip(np.asarray(picture, dtype=np.int64), 0, 65535))
    return np.asarray(picture.convert('RGB'))


def compressed_to_rgb(msg, max_pixels: int | None = None) -> np.ndarray:
    """sensor_msgs/CompressedImage (JPEG or PNG, as image_transport's compressed plugin writes) -> RGB. The size
    is read from the header before decoding: more than `max_pixels` is a ValueError, and nothing is decoded.
    """
    try:
        with PILImage.open(io.BytesIO(bytes(msg.data))) as picture:   # lazy: reads the header only
            _check_pixels(*picture.size, max_pixels)
            if picture.format not in ('JPEG', 'PNG'):
                raise ValueError(f'unsupported compressed format {picture.format!r} ({msg.format!r})')
            if picture.mode not in ('RGB', 'RGBA', 'L', 'P', 'LA', 'CMYK', 'YCbCr', *SIXTEEN_BIT_GREY):
                raise ValueError(f'compressed image mode {picture.mode!r} ({msg.format!r}) is not a camera image')
            return picture_to_rgb(picture)
    except (OSError, SyntaxError, PILImage.DecompressionBombError) as exc:
        # A corrupt header can claim a huge picture: PIL refuses it with DecompressionBombError.
        raise ValueError(f'cannot decode compressed image ({msg.format!r}): {exc}') from None


def depth_image_to_metres(msg) -> np.ndarray:
    """sensor_msgs/Image (or CompressedImage) of a depth camera -> H x W float32 metres, NaN where there is no
    measurement: 16UC1 in millimetres (0 = none) or 32FC1 in metres (REP 118: NaN, 0 and +-inf are no measurement
    here).
    """
    if not hasattr(msg, 'encoding'):
        return _compressed_depth_to_metres(msg)
    encoding = msg.encoding.upper()
    if encoding not in ('16UC1', '32FC1'):
        raise ValueError(f'unsupported depth encoding {msg.encoding!r} (supported: 16UC1 millimetres, 32FC1 metres)')
    rows = _rows(msg, 2 if encoding == '16UC1' else 4)
    dtype = ('>' if msg.is_bigendian else '<') + ('u2' if encoding == '16UC1' else 'f4')
    values = rows.view(dtype).reshape(msg.height, msg.width).astype(np.float32)
    if encoding == '16UC1':
        values = values / 1000.0
    return np.where(np.isfinite(values) & (values > 0), values, np.nan).astype(np.float32)


def _compressed_depth_to_metres(msg) -> np.ndarray:
    """A CompressedImage of depth as image_transport writes it: `16UC1; compressedDepth png` (or `...; png
    compressed 16UC1`) is a 16-bit PNG of millimetres, after a 12-byte header for compressedDepth; `32FC1;
    compressedDepth png` a 16-bit PNG of inverse depth quantised with the header's (int32 format, float32 A, B):
    metres = A / (value - B), value 0 no measurement.
    """
    encoding = msg.format.split(';')[0].strip().upper()
    data = bytes(msg.data)
    quantised = None
    if 'compresseddepth' in msg.format.lower():
        if len(data) < 12:
            raise ValueError(f'compressedDepth image ({msg.format!r}) is shorter than its 12-byte header')
        quantised, data = struct.unpack('<iff', data[:12])[1:], data[12:]
    try:
        with PILImage.open(io.BytesIO(data)) as picture:
            if picture.format != 'PNG' or picture.mode not in SIXTEEN_BIT_GREY:
                raise ValueError(f'depth image ({msg.format!r}) is not a 16-bit PNG ({picture.format} {picture.mode})')
            values = np.asarray(picture, dtype=np.float32)
    except (OSError, SyntaxError, PILImage.DecompressionBombError) as exc:
        raise ValueError(f'cannot decode compressed depth image ({msg.format!r}): {exc}') from None
    if encoding == '16UC1':
        metres = values / 1000.0
    elif encoding == '32FC1' and quantised is not None:
        a, b = quantised
        with np.errstate(divide='ignore'):
            metres = np.where(values > 0, a / (values - b), np.nan)
    else:
        raise ValueError(f'unsupported compressed depth format {msg.format!r} (16UC1 png, or 16UC1/32FC1 '
                         'compressedDepth png)')
    return np.where(np.isfinite(metres) & (metres > 0), metres, np.nan).astype(np.float32)


def label_image_to_ids(msg) -> np.ndarray:
    """sensor_msgs/Image of class labels (mono8 or 8UC1 train ids, 255 unknown) -> H x W uint8."""
    if msg.encoding.lower() not in ('mono8', '8uc1'):
        raise ValueError(f'labels must be a mono8 or 8UC1 image of train ids, got {msg.encoding!r}')
    return _rows(msg, 1).copy()
