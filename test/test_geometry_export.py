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

"""Writing clouds to files that open3d reads back."""
import numpy as np
import open3d as o3d
from plane_scene import CX, CY, FX, FY, HEIGHT, plane_depth, WIDTH
import pytest

from vision_banana_ros.geometry import build_cloud, CloudOptions, Intrinsics, write_cloud

INTR = Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT)


@pytest.mark.parametrize('suffix', ['.ply', '.pcd'])
def test_exported_cloud_reads_back_in_open3d(tmp_path, suffix):
    rng = np.random.default_rng(1)
    depth = plane_depth()
    depth[:20] = np.nan
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    labels = rng.integers(0, 19, (HEIGHT, WIDTH), dtype=np.uint8)
    options = CloudOptions(organized=True, stride=4, with_normals=True, drop_classes=())
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=options)
    path = write_cloud(tmp_path / f'cloud{suffix}', cloud)

    read = o3d.t.io.read_point_cloud(str(path))
    valid = np.isfinite(cloud.points['x'])
    points = cloud.points[valid]
    assert len(read.point.positions) == valid.sum() == (HEIGHT - 20) // 4 * (WIDTH // 4)
    np.testing.assert_array_equal(read.point.positions.numpy(),
                                  np.stack([points['x'], points['y'], points['z']], axis=1))
    np.testing.assert_array_equal(read.point.colors.numpy(), image[::4, ::4][valid])
    np.testing.assert_array_equal(read.point.label.numpy()[:, 0], labels[::4, ::4][valid])
    if suffix == '.pcd':    # PCL's PointXYZL reads a label only as uint32
        header = path.read_bytes().split(b'DATA')[0].decode()
        fields = header.split('FIELDS')[1].split('\n')[0].split()
        sizes, types = (header.split(key)[1].split('\n')[0].split() for key in ('\nSIZE', '\nTYPE'))
        assert (sizes[fields.index('label')], types[fields.index('label')]) == ('4', 'U')
    np.testing.assert_array_equal(read.point.normals.numpy(),
                                  np.stack([points['normal_x'], points['normal_y'], points['normal_z']], axis=1))
    # The legacy reader (what viewers built on open3d use) sees the same colours.
    legacy = o3d.io.read_point_cloud(str(path))
    np.testing.assert_allclose(np.asarray(legacy.colors), image[::4, ::4][valid] / 255.0, atol=1e-6)


def test_unknown_format_is_rejected(tmp_path):
    cloud = build_cloud(plane_depth(), INTR, options=CloudOptions(color_source='none', stride=8))
    with pytest.raises(ValueError, match=r'\.ply or \.pcd'):
        write_cloud(tmp_path / 'cloud.xyz', cloud)


def test_a_cloud_without_valid_points_is_a_clear_error(tmp_path):
    cloud = build_cloud(np.full((HEIGHT, WIDTH), np.nan, np.float32), INTR,
                        options=CloudOptions(organized=True, color_source='none'))
    with pytest.raises(ValueError, match='no valid point'):
        write_cloud(tmp_path / 'cloud.ply', cloud)
    assert not (tmp_path / 'cloud.ply').exists()
