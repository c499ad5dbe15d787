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

"""Camera intrinsics: from a field of view, from CameraInfo, and scaled to other sizes."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from vision_banana_ros.geometry import Intrinsics

K = [600.0, 0.0, 320.0, 0.0, 610.0, 240.0, 0.0, 0.0, 1.0]
P = [580.0, 0.0, 330.0, 0.0, 0.0, 590.0, 250.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def test_from_fov_spans_the_outer_pixel_edges():
    intr = Intrinsics.from_fov(640, 480, 90.0)
    assert (intr.fx, intr.fy, intr.cx, intr.cy) == pytest.approx((320.0, 320.0, 319.5, 239.5))
    # The left edge of pixel 0 and the right edge of the last pixel are 45 degrees off axis.
    assert math.degrees(math.atan((-0.5 - intr.cx) / intr.fx)) == pytest.approx(-45.0)
    assert math.degrees(math.atan((639.5 - intr.cx) / intr.fx)) == pytest.approx(45.0)


@pytest.mark.parametrize('hfov', [0.0, 180.0, -10.0, float('nan')])
def test_from_fov_rejects_impossible_angles(hfov):
    with pytest.raises(ValueError, match='hfov_deg'):
        Intrinsics.from_fov(640, 480, hfov)


def test_camera_info_k_for_raw_and_p_for_rectified_images():
    raw = Intrinsics.from_camera_info_fields(K, P, 640, 480)
    assert (raw.fx, raw.fy, raw.cx, raw.cy, raw.width, raw.height) == (600, 610, 320, 240, 640, 480)
    rect = Intrinsics.from_camera_info_fields(K, P, 640, 480, rectified=True)
    assert (rect.fx, rect.fy, rect.cx, rect.cy) == (580, 590, 330, 250)


def test_camera_info_binning_and_roi_as_image_geometry():
    # ROI (100, 50) 400 x 300 of the full image, then 2 x 2 binning: image_geometry's formulas.
    intr = Intrinsics.from_camera_info_fields(K, P, 640, 480, binning_x=2, binning_y=2, roi=(100, 50, 400, 300))
    assert (intr.fx, intr.fy) == (300.0, 305.0)
    assert (intr.cx, intr.cy) == ((320 - 100) / 2, (240 - 50) / 2)
    assert (intr.width, intr.height) == (200, 150)
    # Binning 0 and 1 both mean none; an all-zero ROI is the full image.
    assert Intrinsics.from_camera_info_fields(K, P, 640, 480, binning_x=1, binning_y=0) == \
        Intrinsics.from_camera_info_fields(K, P, 640, 480)


@pytest.mark.parametrize('k, p, kwargs, message', [
    ([0.0] * 9, P, {}, 'K is all zero.*uncalibrated'),
    (K, [0.0] * 12, {'rectified': True}, 'P is all zero'),
    ([0.0, 0, 320, 0, 610, 240, 0, 0, 1], P, {}, 'camera_info K.*focal lengths must be positive'),
    ([-600.0, 0, 320, 0, 610, 240, 0, 0, 1], P, {}, 'focal lengths must be positive'),
    ([600.0, 0, float('nan'), 0, 610, 240, 0, 0, 1], P, {}, 'cx must be finite'),
    (K[:6], P, {}, 'K must have 9 values'),
    (K, P, {'roi': (500, 0, 200, 100)}, 'roi .* does not lie inside the 640x480 image'),
    (K, P, {'roi': (10, 10, 0, 0)}, 'roi has offsets'),
])
def test_camera_info_nonsense_is_rejected_with_a_message(k, p, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Intrinsics.from_camera_info_fields(k, p, 640, 480, **kwargs)


def test_camera_info_without_a_size_is_rejected():
    with pytest.raises(ValueError, match='width and height must be positive'):
        Intrinsics.from_camera_info_fields(K, P, 0, 0)


@pytest.mark.parametrize('kwargs, message', [
    ({'fx': 0.0}, 'focal lengths must be positive'),
    ({'fy': -1.0}, 'focal lengths must be positive'),
    ({'cy': float('inf')}, 'cy must be finite'),
    ({'width': 0}, 'width must be a positive integer'),
    ({'height': 2.5}, 'height must be a positive integer'),
])
def test_intrinsics_reject_nonsense(kwargs, message):
    values = {'fx': 500.0, 'fy': 500.0, 'cx': 320.0, 'cy': 240.0, 'width': 640, 'height': 480} | kwargs
    with pytest.raises(ValueError, match=message):
        Intrinsics(**values)


def test_scaling_maps_pixel_centres_like_a_resize():
    intr = Intrinsics(600.0, 610.0, 320.0, 240.0, 640, 480)
    small = intr.scaled_to(320, 240)
    assert (small.fx, small.fy, small.width, small.height) == (300.0, 305.0, 320, 240)
    # A 3-D point projects to (u, v) in the full image and to (u + 0.5) / 2 - 0.5 in the half-size one.
    x, y, z = 0.7, -0.4, 2.0
    u, v = intr.fx * x / z + intr.cx, intr.fy * y / z + intr.cy
    assert small.fx * x / z + small.cx == pytest.approx((u + 0.5) / 2 - 0.5)
    assert small.fy * y / z + small.cy == pytest.approx((v + 0.5) / 2 - 0.5)
    back = small.scaled_to(640, 480)
    np.testing.assert_allclose([back.fx, back.fy, back.cx, back.cy], [600, 610, 320, 240])
    assert intr.scaled_to(640, 480) is intr


def test_decimation_keeps_every_strideth_pixel_on_its_ray():
    intr = Intrinsics(600.0, 610.0, 320.0, 240.0, 641, 480)
    half = intr.decimated(2)
    assert (half.width, half.height) == (321, 240)
    for j in (0, 7, 320):
        assert (j - half.cx) / half.fx == pytest.approx((2 * j - intr.cx) / intr.fx)
    with pytest.raises(ValueError, match='stride'):
        intr.decimated(0)


def _camera_info(k, width=640, height=480):
    roi = SimpleNamespace(x_offset=0, y_offset=0, width=0, height=0)
    return SimpleNamespace(k=k, p=P, width=width, height=height, binning_x=0, binning_y=0, roi=roi)


def test_for_image_takes_camera_info_scaled_to_the_image_else_the_fallback_with_why():
    intr, fallback = Intrinsics.for_image(_camera_info(K), 320, 240, rectified=False, fallback_hfov_deg=90.0)
    assert fallback is None and intr == Intrinsics.from_camera_info_fields(K, P, 640, 480).scaled_to(320, 240)
    intr, fallback = Intrinsics.for_image(None, 320, 240, rectified=False, fallback_hfov_deg=90.0)
    assert fallback == 'none received yet' and intr == Intrinsics.from_fov(320, 240, 90.0)
    intr, fallback = Intrinsics.for_image(_camera_info([0.0] * 9), 320, 240, rectified=False, fallback_hfov_deg=60.0)
    assert fallback.startswith('unusable (') and 'uncalibrated' in fallback
    assert intr == Intrinsics.from_fov(320, 240, 60.0)
