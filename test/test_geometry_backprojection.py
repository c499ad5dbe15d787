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

"""Back-projection of depth into points and normals from depth."""
import math

import numpy as np
from plane_scene import CX, CY, FX, FY, HEIGHT, NORMAL, plane_depth, plane_error, WIDTH
import pytest
import torch

from vision_banana_ros.geometry import backproject, depth_validity, Intrinsics, normals_from_depth

INTR = Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT)


def test_plane_at_known_distance_is_recovered_within_a_millimetre():
    points = backproject(torch.from_numpy(plane_depth()), INTR).permute(1, 2, 0).numpy()
    assert plane_error(points).max() < 1e-3
    # Every point lies on its own pixel's ray.
    u = FX * points[..., 0] / points[..., 2] + CX
    v = FY * points[..., 1] / points[..., 2] + CY
    np.testing.assert_allclose(u, np.broadcast_to(np.arange(WIDTH), u.shape), atol=1e-3)
    np.testing.assert_allclose(v, np.broadcast_to(np.arange(HEIGHT)[:, None], v.shape), atol=1e-3)


@pytest.mark.parametrize('width, height', [(320, 240), (160, 120), (640, 360)])
def test_depth_at_another_size_than_the_camera_info_uses_scaled_intrinsics(width, height):
    # The depth map is the camera image resized as a whole: its pixel centre j sits at (j + 0.5) s - 0.5 of
    # the camera image, s = camera size / depth size (anisotropic for 640x360).
    u = (np.arange(width) + 0.5) * WIDTH / width - 0.5
    v = (np.arange(height) + 0.5) * HEIGHT / height - 0.5
    depth = plane_depth(u=u, v=v)
    points = backproject(torch.from_numpy(depth), INTR).permute(1, 2, 0).numpy()
    assert points.shape == (height, width, 3)
    assert plane_error(points).max() < 1e-3
    np.testing.assert_allclose(FX * points[..., 0] / points[..., 2] + CX, np.broadcast_to(u, (height, width)),
                               atol=1e-3)


def test_invalid_depths_back_project_to_nan():
    depth = torch.tensor([[2.0, math.nan, math.inf, -math.inf], [0.0, -1.0, 1e-3, 50.0]])
    intr = Intrinsics(2.0, 2.0, 1.5, 0.5, 4, 2)
    points = backproject(depth, intr)
    assert torch.isnan(points[:, 0, 1:]).all() and torch.isnan(points[:, 1, :2]).all()
    assert torch.isfinite(points[:, 0, 0]).all() and torch.isfinite(points[:, 1, 2:]).all()
    np.testing.assert_allclose(points[:, 0, 0].numpy(), [(0 - 1.5) / 2 * 2.0, (0 - 0.5) / 2 * 2.0, 2.0])


def test_range_limits_are_distances_from_the_optical_centre_not_depths():
    intr = Intrinsics(1.0, 1.0, 0.0, 0.0, 2, 1)
    # Pixel 1 looks 45 degrees off axis: depth 4 is range 4 * sqrt(2) = 5.66.
    depth = torch.tensor([[4.0, 4.0]])
    assert depth_validity(depth, intr, max_range=5.0).tolist() == [[True, False]]
    assert depth_validity(depth, intr, min_range=5.0).tolist() == [[False, True]]
    assert depth_validity(depth, intr, min_range=3.0, max_range=6.0).tolist() == [[True, True]]


def test_batches_back_project_together():
    depth = torch.from_numpy(np.stack([plane_depth(), plane_depth() * 2]))
    points = backproject(depth, INTR)
    assert points.shape == (2, 3, HEIGHT, WIDTH)
    torch.testing.assert_close(points[1], 2 * points[0])


def test_normals_from_depth_of_a_tilted_plane():
    normals = normals_from_depth(torch.from_numpy(plane_depth()), INTR).permute(1, 2, 0).numpy()
    inner = normals[1:-1, 1:-1]
    # The plane's normal, turned toward the camera (which sits on the side NORMAL points away from).
    angle = np.degrees(np.arccos(np.clip(inner.astype(np.float64) @ -NORMAL, -1, 1)))
    assert angle.max() < 0.05
    assert np.isnan(normals[0]).all() and np.isnan(normals[:, -1]).all()


def test_normals_from_depth_face_the_camera_and_are_nan_next_to_holes():
    depth = torch.full((5, 6), 2.0)
    depth[2, 3] = math.nan
    normals = normals_from_depth(depth, Intrinsics(4.0, 4.0, 2.5, 2.0, 6, 5))
    torch.testing.assert_close(normals[:, 1, 1], torch.tensor([0.0, 0.0, -1.0]))
    assert torch.isnan(normals[:, 2, 2]).all() and torch.isnan(normals[:, 1, 3]).all()
