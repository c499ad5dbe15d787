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

"""Pinhole intrinsics of the image a depth map belongs to: from CameraInfo fields, or from a field of view.

Pixel (u, v) has its centre at integer coordinates (u right, v down), as in CameraInfo. A point (x, y, z) in the
optical frame projects to u = fx x / z + cx, v = fy y / z + cy.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Sequence

# A CameraInfo whose focal length lies outside (size / FOCAL_RANGE, size * FOCAL_RANGE), or whose principal point
# lies more than one image size outside the image, describes no camera: fx = 5e-324 vanishes and 1e308 overflows
# once scaled. Such a CameraInfo is refused, and its camera falls back to fallback_hfov_deg.
FOCAL_RANGE = 1000.0


def _check_plausible(name: str, fx: float, fy: float, cx: float, cy: float, width: int, height: int) -> None:
    """Refuse intrinsics no camera has; non-finite and non-positive values are left to Intrinsics' own message."""
    size = max(width, height)
    for label, focal in (('fx', fx), ('fy', fy)):
        if 0 < focal < math.inf and not size / FOCAL_RANGE <= focal <= size * FOCAL_RANGE:
            raise ValueError(f'camera_info {name}: {label} = {focal} is no focal length of a {width}x{height} image '
                             f'({size / FOCAL_RANGE:g} to {size * FOCAL_RANGE:g} pixels)')
    for label, centre, extent in (('cx', cx, width), ('cy', cy, height)):
        if math.isfinite(centre) and not -extent <= centre <= 2 * extent:
            raise ValueError(f'camera_info {name}: principal point {label} = {centre} lies far outside the '
                             f'{width}x{height} image')


def finite_distortion(info) -> bool:
    """Whether a CameraInfo's distortion coefficients (rclpy or rosbags message; none counts) are all finite."""
    return all(math.isfinite(float(v)) for v in getattr(info, 'd', ()))


@dataclass(frozen=True)
class Intrinsics:
    """Focal lengths and principal point in pixels of a `width` x `height` image."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self):
        for name in ('fx', 'fy', 'cx', 'cy'):
            value = float(getattr(self, name))
            if not math.isfinite(value):
                raise ValueError(f'intrinsics: {name} must be finite, got {value}')
            object.__setattr__(self, name, value)
        if self.fx <= 0 or self.fy <= 0:
            raise ValueError(f'intrinsics: focal lengths must be positive, got fx={self.fx}, fy={self.fy}')
        for name in ('width', 'height'):
            value = getattr(self, name)
            if int(value) != value or value <= 0:
                raise ValueError(f'intrinsics: {name} must be a positive integer, got {value}')
            object.__setattr__(self, name, int(value))

    @property
    def k(self) -> list[float]:
        """Row-major 3x3 camera matrix, as CameraInfo.k."""
        return [self.fx, 0.0, self.cx, 0.0, self.fy, self.cy, 0.0, 0.0, 1.0]

    @property
    def p(self) -> list[float]:
        """Row-major 3x4 projection matrix of these (rectified, undistorted) pixels, as CameraInfo.p."""
        return [self.fx, 0.0, self.cx, 0.0, 0.0, self.fy, self.cy, 0.0, 0.0, 0.0, 1.0, 0.0]

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float) -> Intrinsics:
        """Square pixels, principal point at the image centre, and `hfov_deg` spanning the outer pixel edges."""
        if not 0.0 < hfov_deg < 180.0:
            raise ValueError(f'hfov_deg must lie strictly between 0 and 180 degrees, got {hfov_deg}')
        focal = (width / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)
        return cls(focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    @classmethod
    def from_camera_info(cls, info, rectified: bool = False) -> Intrinsics:
        """Intrinsics of the image a sensor_msgs/CameraInfo describes (an rclpy or a rosbags message: only its
        fields are read): K for raw images, P for rectified ones (`rectified=True`). Distortion coefficients that
        are not all finite (NaN, inf) make the whole CameraInfo unusable, rectified or not.
        """
        if not finite_distortion(info):
            raise ValueError('camera_info D: non-finite distortion coefficients')
        roi = info.roi
        return cls.from_camera_info_fields(
            info.k, info.p, info.width, info.height, binning_x=info.binning_x, binning_y=info.binning_y,
            roi=(roi.x_offset, roi.y_offset, roi.width, roi.height), rectified=rectified)

    @classmethod
    def from_camera_info_fields(cls, k: Sequence[float], p: Sequence[float], width: int, height: int, *,
                                binning_x: int = 0, binning_y: int = 0, roi: Sequence[int] = (0, 0, 0, 0),
                                rectified: bool = False) -> Intrinsics:
        """Intrinsics of the image a CameraInfo describes, from its plain fields.

        `k` (9 values) describes the raw image, `p` (12 values) the rectified one: pass `rectified=True` for
        image_rect topics. `roi` is (x_offset, y_offset, width, height) in full-resolution pixels, all zero for
        the full image; binning 0 or 1 means none. ROI and binning are applied as image_geometry does.
        """
        matrix, name, row = (p, 'P', 4) if rectified else (k, 'K', 3)
        values = [float(v) for v in matrix]
        if len(values) != 3 * row:
            raise ValueError(f'camera_info {name} must have {3 * row} values, got {len(values)}')
        if not any(values):
            raise ValueError(f'camera_info {name} is all zero: the camera is uncalibrated; calibrate it, use '
                             f'{"K (rectified=False)" if rectified else "P (rectified=True)"} if that one is set, '
                             'or configure a horizontal field of view instead')
        fx, cx, fy, cy = values[0], values[2], values[row + 1], values[row + 2]
        if width <= 0 or height <= 0:
            raise ValueError(f'camera_info width and height must be positive, got {width}x{height}')
        _check_plausible(name, fx, fy, cx, cy, width, height)
        bx, by = max(1, int(binning_x)), max(1, int(binning_y))
        x_offset, y_offset, roi_width, roi_height = (int(v) for v in roi)
        if roi_width == 0 and roi_height == 0:
            if x_offset or y_offset:
                raise ValueError(f'camera_info roi has offsets ({x_offset}, {y_offset}) but zero size')
            roi_width, roi_height = width, height
        if (x_offset < 0 or y_offset < 0 or roi_width <= 0 or roi_height <= 0
                or x_offset + roi_width > width or y_offset + roi_height > height):
            raise ValueError(f'camera_info roi (x_offset={x_offset}, y_offset={y_offset}, width={roi_width}, '
                             f'height={roi_height}) does not lie inside the {width}x{height} image')
        try:
            return cls(fx / bx, fy / by, (cx - x_offset) / bx, (cy - y_offset) / by,
                       roi_width // bx, roi_height // by)
        except ValueError as exc:
            raise ValueError(f'camera_info {name}: {exc}') from None

    @classmethod
    def for_image(cls, info, width: int, height: int, *, rectified: bool,
                  fallback_hfov_deg: float) -> tuple[Intrinsics, str | None]:
        """The intrinsics of a `width` x `height` image from its camera's latest CameraInfo (None if none came),
        scaled when sizes differ, else from the fallback field of view; with why the fallback served (None when
        the CameraInfo did), for callers to log or count.
        """
        if info is None:
            reason = 'none received yet'
        else:
            try:
                return cls.from_camera_info(info, rectified).scaled_to(width, height), None
            except ValueError as exc:
                reason = f'unusable ({exc})'
        return cls.from_fov(width, height, fallback_hfov_deg), reason

    def scaled_to(self, width: int, height: int) -> Intrinsics:
        """The intrinsics of this image resized (as a whole, not cropped) to `width` x `height`."""
        if (width, height) == (self.width, self.height):
            return self
        if width <= 0 or height <= 0:
            raise ValueError(f'cannot scale intrinsics to {width}x{height}')
        sx, sy = width / self.width, height / self.height
        # Pixel centres map as in resizing with align_corners=False: u' + 0.5 = (u + 0.5) * s.
        return Intrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5,
                          width, height)

    def decimated(self, stride: int) -> Intrinsics:
        """The intrinsics of image[::stride, ::stride]: its pixel j is pixel stride * j of this image."""
        if int(stride) != stride or stride < 1:
            raise ValueError(f'stride must be a positive integer, got {stride}')
        if stride == 1:
            return self
        return Intrinsics(self.fx / stride, self.fy / stride, self.cx / stride, self.cy / stride,
                          -(-self.width // stride), -(-self.height // stride))
