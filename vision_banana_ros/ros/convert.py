"""sensor_msgs images <-> numpy, without cv_bridge.

Camera images in: rgb8, bgr8, rgba8, bgra8, mono8, mono16 (scaled by 1/257), yuv422 (UYVY) and yuv422_yuy2
(YUYV, BT.601), or a CompressedImage in JPEG/PNG. Every one becomes H x W x 3 uint8 RGB; anything else is a
ValueError that names the encoding, so the node can warn and count the frame as rejected.
Results out: mono8, rgb8, 32FC1 and 32FC3 images with the input's header.
"""
from __future__ import annotations

import array
import io

import numpy as np
from PIL import Image as PILImage
from sensor_msgs.msg import CompressedImage, Image

CAMERA_ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'mono8', 'mono16', 'yuv422', 'yuv422_yuy2')
_BYTES_PER_PIXEL = {'rgb8': 3, 'bgr8': 3, 'rgba8': 4, 'bgra8': 4, 'mono8': 1, 'mono16': 2, 'yuv422': 2,
                    'yuv422_yuy2': 2}
_OUT_ENCODINGS = {('uint8', 2): ('mono8', 1), ('uint8', 3): ('rgb8', 3), ('float32', 2): ('32FC1', 4),
                  ('float32', 3): ('32FC3', 12)}
# Generated setters keep an array('B') as it is while they check fields (always on Humble, opt-in since Jazzy)
# and copy it otherwise; checking the few other fields costs microseconds, a copy of the pixels milliseconds.
KEEP_DATA = {'check_fields': True} if '_check_fields' in Image.__slots__ else {}


def message_bytes(values: np.ndarray) -> array.array:
    """The one copy of an array into a message's uint8[] field (assigning an ndarray converts element-wise)."""
    data = array.array('B')
    data.frombytes(np.ascontiguousarray(values).reshape(-1).view(np.uint8))
    return data


def _rows(msg: Image, bytes_per_pixel: int) -> np.ndarray:
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


def image_to_rgb(msg: Image) -> np.ndarray:
    """sensor_msgs/Image (camera encodings above) -> H x W x 3 uint8 RGB."""
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
        mono = rows.view('>u2' if msg.is_bigendian else '<u2').reshape(h, w)
        return np.repeat((mono // 257).astype(np.uint8)[..., None], 3, axis=2)
    if w % 2:
        raise ValueError(f'{msg.encoding} image width {w} must be even')
    pairs = rows.reshape(h, w // 2, 4)
    # UYVY (yuv422) and YUYV (yuv422_yuy2): two pixels share one U and one V.
    u, y0, v, y1 = (pairs[..., i] for i in ((0, 1, 2, 3) if encoding == 'yuv422' else (1, 0, 3, 2)))
    y = np.stack([y0, y1], axis=-1).reshape(h, w)
    return _yuv_to_rgb(y, np.repeat(u, 2, axis=1), np.repeat(v, 2, axis=1))


def compressed_to_rgb(msg: CompressedImage) -> np.ndarray:
    """sensor_msgs/CompressedImage (JPEG or PNG, as image_transport's compressed plugin writes) -> RGB."""
    try:
        with PILImage.open(io.BytesIO(bytes(msg.data))) as picture:
            if picture.format not in ('JPEG', 'PNG'):
                raise ValueError(f'unsupported compressed format {picture.format!r} ({msg.format!r})')
            if picture.mode not in ('RGB', 'RGBA', 'L', 'P', 'LA', 'CMYK', 'YCbCr'):
                raise ValueError(f'compressed image mode {picture.mode!r} ({msg.format!r}) is not a camera image')
            return np.asarray(picture.convert('RGB'))
    except (OSError, SyntaxError) as exc:
        raise ValueError(f'cannot decode compressed image ({msg.format!r}): {exc}') from None


def array_to_image(values: np.ndarray, header) -> Image:
    """uint8 H x W (mono8) or H x W x 3 (rgb8), float32 H x W (32FC1) or H x W x 3 (32FC3) -> Image."""
    key = (values.dtype.name, values.ndim)
    if key not in _OUT_ENCODINGS or (values.ndim == 3 and values.shape[2] != 3):
        raise ValueError(f'no image encoding for a {values.dtype} array of shape {values.shape}')
    encoding, bytes_per_pixel = _OUT_ENCODINGS[key]
    height, width = values.shape[:2]
    msg = Image(header=header, height=height, width=width, encoding=encoding, is_bigendian=False,
                step=width * bytes_per_pixel, **KEEP_DATA)
    msg.data = message_bytes(values)
    return msg
