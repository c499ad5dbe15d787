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

"""Answers for images resized to the processing size, mapped back to the camera."""
import math

import numpy as np
import pytest
import torch

from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.codecs import decode_normals
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.engine.resample import resize_depth, resize_normals, seen_intrinsics
from vision_banana_ros.geometry.depth_normals import normals_from_depth
from vision_banana_ros.geometry.intrinsics import Intrinsics
from vision_banana_ros.world import render_frame


def _plane_depth(normal, offset, intrinsics):
    """Z of the plane n . p = offset seen by a pinhole camera, per pixel."""
    v, u = torch.meshgrid(torch.arange(intrinsics.height, dtype=torch.float64),
                          torch.arange(intrinsics.width, dtype=torch.float64), indexing='ij')
    rays = torch.stack([(u + 0.5 - intrinsics.cx) / intrinsics.fx, (v + 0.5 - intrinsics.cy) / intrinsics.fy,
                        torch.ones_like(u)])
    return (offset / torch.einsum('c,chw->hw', torch.tensor(normal, dtype=torch.float64), rays)).float()


def test_normals_answered_for_a_stretched_image_come_back_true():
    """A 16:9 camera, processed at 256x192 (4:3): the model sees a square-pixel picture of a stretched scene."""
    n = torch.tensor([0.2, -0.6, -0.77])
    n = n / n.norm()
    camera = Intrinsics(fx=200.0, fy=200.0, cx=160.0, cy=90.0, width=320, height=180)
    depth = _plane_depth(n.tolist(), -2.0, camera)
    assert (depth > 0).all()
    # What a square-pixel model would see at 256x192: the same depths (z does not change), one focal length.
    resized = torch.nn.functional.interpolate(depth[None, None], size=(192, 256), mode='bilinear',
                                              align_corners=False)[0, 0]
    seen = Intrinsics(fx=160.0, fy=160.0, cx=128.0, cy=96.0, width=256, height=192)
    answered = normals_from_depth(resized, seen)[None]
    inner = (slice(None), slice(None), slice(4, -4), slice(4, -4))
    stretched_error = math.degrees(math.acos(float((answered[inner] * n.view(1, 3, 1, 1)).sum(1).min())))
    assert stretched_error > 5.0                          # the stretched scene's normals are not the real ones
    back = resize_normals(answered, (180, 320))
    cosine = (back[:, :, 4:-4, 4:-4] * n.view(1, 3, 1, 1)).sum(1)
    assert float(cosine.min()) > math.cos(math.radians(0.5))


def test_the_principal_point_moves_with_the_pixels_it_lies_on():
    """Resizing samples pixel centres (u' + 0.5 = (u + 0.5) s): the principal point must land on the pixel its own
    pixel moved to, and a stretched frame keeps square pixels with the horizontal factor.
    """
    camera = Intrinsics(500.0, 500.0, 300.25, 200.75, 640, 480)
    same = seen_intrinsics(camera, (480, 640), (240, 320))
    assert (same.fx, same.fy) == (250.0, 250.0)
    assert (same.cx, same.cy) == ((300.25 + 0.5) / 2 - 0.5, (200.75 + 0.5) / 2 - 0.5)
    stretched = seen_intrinsics(camera, (360, 640), (240, 320))     # a 16:9 frame at 4:3
    assert (stretched.fx, stretched.fy) == (250.0, 250.0 * 360 / 480)
    assert stretched.cy == pytest.approx((200.75 + 0.5) * 240 / 480 - 0.5)


def test_depth_brought_up_to_the_camera_invents_no_surface_between_two():
    """An outline against what lies behind it keeps one depth or the other (interpolated, a band of points would
    stand in mid-air between them in the cloud); one surface is still interpolated smoothly.
    """
    step = torch.full((1, 4, 6), 10.0)
    step[:, :, 3:] = 40.0
    up = resize_depth(step, (12, 18))
    assert torch.isclose(up, torch.tensor(10.0), rtol=1e-4).sum() == 12 * 9      # (through the codec's f-space)
    assert torch.isclose(up, torch.tensor(40.0), rtol=1e-4).sum() == 12 * 9
    sky = torch.full((1, 4, 6), 10.0)
    sky[:, :, 3:] = torch.inf
    up = resize_depth(sky, (12, 18))
    assert torch.isinf(up).sum() == torch.isclose(up, torch.tensor(10.0), rtol=1e-4).sum() == 12 * 9
    ramp = torch.linspace(5.0, 5.5, 6).repeat(1, 4, 1)        # 2 % a pixel: one surface
    up = resize_depth(ramp, (12, 18))[0, 0]
    assert (up[1:-1].diff() > 0).all()          # interpolated (the ends repeat the border)


def test_same_aspect_resize_keeps_directions():
    n = torch.nn.functional.normalize(torch.tensor([0.2, -0.6, -0.77]), dim=0)
    normals = n.view(1, 3, 1, 1).repeat(1, 1, 6, 8)
    normals[0, :, 0, 0] = torch.nan
    out = resize_normals(normals, (12, 16))
    assert out.shape == (1, 3, 12, 16) and torch.isnan(out[0, :, 0, 0]).all()
    finite = torch.isfinite(out).all(dim=1)
    assert finite.float().mean() > 0.9
    torch.testing.assert_close(out.permute(0, 2, 3, 1)[finite], n.expand(int(finite.sum()), 3))


def test_depth_beside_invalid_pixels_keeps_its_value():
    depth = torch.full((1, 4, 8), 5.0)
    depth[0, :, 4:] = torch.nan                        # e.g. an expert model's invalid area
    out = resize_depth(depth, (8, 16))
    valid = torch.isfinite(out)
    torch.testing.assert_close(out[valid], torch.full_like(out[valid], 5.0))   # not pulled toward "far"
    assert torch.isnan(out[0, :, 8:]).all() and valid[0, :, :8].all()
    assert torch.isposinf(resize_depth(torch.full((1, 4, 8), torch.inf), (8, 16))).all()     # sky stays far


def test_the_normals_picture_of_a_stretched_frame_paints_the_normals_brought_back():
    """A 16:9 camera processed at the embedded model's 4:3 size: the `normals` topic's picture shows the same normals
    as normals/raw (the camera's, not the stretched scene's the network painted).
    """
    frame = render_frame(4, 320, 180)
    result = BatchRunner(UnifiedBackend(), ('normals',)).run([FrameRequest('cam', frame.rgb)])[0]
    painted = decode_normals(result.encodings['normals'])
    valid = np.isfinite(result.normals).all(-1)
    assert valid.mean() > 0.5 and np.abs(painted[valid] - result.normals[valid]).max() < 0.02
