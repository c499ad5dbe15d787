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

"""Point clouds built from depth, colour, labels and normals."""
import math

import numpy as np
from plane_scene import CX, CY, FX, FY, HEIGHT, NORMAL, plane_depth, plane_error, WIDTH
import pytest
import torch

from vision_banana_ros.codecs import CITYSCAPES
from vision_banana_ros.geometry import build_cloud, CloudOptions, Intrinsics, RigidTransform
from vision_banana_ros.geometry.cloud import FLOAT32, UINT32
from vision_banana_ros.geometry.filters import remove_statistical_outliers, voxel_downsample

INTR = Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT)
SKY = 10


def frame(seed=0):
    """Plane depth with holes, a random image and labels with a sky band at the top."""
    rng = np.random.default_rng(seed)
    depth = plane_depth()
    depth[100:110, 200:300] = np.nan
    depth[300, :50] = np.inf
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    labels = rng.integers(0, 19, (HEIGHT, WIDTH), dtype=np.uint8)
    labels[labels == SKY] = 0
    labels[:40] = SKY
    return depth, image, labels


def xyz(points):
    return np.stack([points['x'], points['y'], points['z']], axis=-1)


def unpack(rgb):
    packed = np.asarray(rgb, dtype=np.float32).view(np.uint32)
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=-1)


def test_default_cloud_layout_and_content():
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels)
    assert [(f.name, f.offset, f.datatype, f.count) for f in cloud.fields] == [
        ('x', 0, FLOAT32, 1), ('y', 4, FLOAT32, 1), ('z', 8, FLOAT32, 1), ('rgb', 12, FLOAT32, 1),
        ('label', 16, UINT32, 1)]
    assert (cloud.point_step, cloud.height, cloud.is_dense) == (20, 1, True)
    assert cloud.row_step == 20 * cloud.width
    keep = np.isfinite(depth) & (labels != SKY)
    assert cloud.width == keep.sum()
    # Unorganized clouds keep the valid pixels in row-major order.
    np.testing.assert_array_equal(cloud.points['label'][0], labels[keep])
    np.testing.assert_array_equal(unpack(cloud.points['rgb'][0]), image[keep])
    assert plane_error(xyz(cloud.points)).max() < 1e-3
    assert np.isfinite(cloud.points['rgb']).all()  # alpha 0: no colour is a NaN pattern
    assert not cloud.points.view(np.uint8).reshape(-1, 20)[:, 17:].any()  # padding after the label is zero


def test_rgb_is_packed_as_rviz_reads_it():
    depth = np.full((1, 2), 2.0, np.float32)
    image = np.array([[[200, 100, 50], [255, 0, 1]]], np.uint8)
    cloud = build_cloud(depth, Intrinsics(1.0, 1.0, 0.5, 0.0, 2, 1), image=image)
    assert cloud.points['rgb'].view(np.uint32).tolist() == [[0x00C86432, 0x00FF0001]]
    assert [f.name for f in cloud.fields] == ['x', 'y', 'z', 'rgb'] and cloud.point_step == 16


def test_organized_cloud_keeps_every_pixel_with_nan_where_invalid():
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(organized=True))
    assert cloud.points.shape == (HEIGHT, WIDTH) and not cloud.is_dense
    invalid = ~np.isfinite(depth) | (labels == SKY)
    points = xyz(cloud.points)
    assert np.isnan(points[invalid]).all() and np.isfinite(points[~invalid]).all()
    np.testing.assert_array_equal(cloud.points['label'], labels)
    dense = build_cloud(plane_depth(), INTR, image=image, options=CloudOptions(organized=True))
    assert dense.is_dense


def test_stride_keeps_every_strideth_pixel():
    depth, image, labels = frame()
    full = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(organized=True))
    strided = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(organized=True, stride=3))
    assert strided.points.shape == (160, 214)
    assert CloudOptions(stride=3.0).stride == 3 and type(CloudOptions(stride=3.0).stride) is int
    full_bytes = full.points.view(np.uint8).reshape(HEIGHT, WIDTH, 20)
    np.testing.assert_array_equal(strided.points.view(np.uint8).reshape(160, 214, 20), full_bytes[::3, ::3])


def test_range_filter():
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(min_range=3.2, max_range=3.6))
    distance = np.linalg.norm(xyz(cloud.points), axis=-1)
    assert cloud.width > 1000 and distance.min() >= 3.2 - 1e-5 and distance.max() <= 3.6 + 1e-5


@pytest.mark.parametrize('drop', [(), (SKY,), (SKY, 0, 3), (SKY, 0, 3, 4, 5, 18)])
def test_dropped_classes_are_left_out(drop):
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(drop_classes=drop))
    kept = cloud.points['label'][0]
    assert not np.isin(kept, drop).any()
    assert len(kept) == (np.isfinite(depth) & ~np.isin(labels, drop)).sum()


def test_semantic_colours_and_no_colour():
    depth, image, labels = frame()
    semantic = build_cloud(depth, INTR, labels=labels, options=CloudOptions(color_source='semantic'))
    np.testing.assert_array_equal(unpack(semantic.points['rgb'][0]), CITYSCAPES.encode(semantic.points['label'][0]))
    bare = build_cloud(depth, INTR, options=CloudOptions(color_source='none'))
    assert [f.name for f in bare.fields] == ['x', 'y', 'z'] and bare.point_step == 12
    assert bare.width == np.isfinite(depth).sum()


@pytest.mark.parametrize('options', [
    CloudOptions(), CloudOptions(organized=True), CloudOptions(stride=3, with_normals=True, min_range=3.3),
    CloudOptions(color_source='semantic', drop_classes=(SKY, 0, 4), voxel_size=0.1),
    CloudOptions(organized=True, max_range=20.0, min_range=2.0, with_normals=True, color_source='none'),
])
def test_channel_first_float_image_and_wide_labels_give_the_same_cloud(options):
    # The layout and types a torch result holds (3 x H x W float in [0, 1], int64 labels), converted on the way in.
    depth, image, labels = frame()
    turn = RigidTransform.from_translation_rpy((0.1, 0.2, 1.5), (-1.5, 0.1, -1.6))
    reference = build_cloud(depth, INTR, image=image, labels=labels, options=options, transform=turn)
    cloud = build_cloud(depth, INTR, image=image.transpose(2, 0, 1).astype(np.float32) / 255,
                        labels=labels.astype(np.int64), options=options, transform=turn)
    assert cloud.fields == reference.fields and cloud.is_dense == reference.is_dense
    assert cloud.points.shape == reference.points.shape and cloud.points.size > 1000
    for name in reference.points.dtype.names:
        np.testing.assert_allclose(cloud.points[name], reference.points[name], rtol=1e-6, atol=1e-6)
    if 'rgb' in reference.points.dtype.names:
        np.testing.assert_array_equal(cloud.points['rgb'].view(np.uint32), reference.points['rgb'].view(np.uint32))


def test_uint16_millimetre_depth():
    depth = np.array([[0, 1500, 2000]], np.uint16)
    cloud = build_cloud(depth, Intrinsics(1.0, 1.0, 1.0, 0.0, 3, 1), options=CloudOptions(color_source='none'))
    np.testing.assert_allclose(cloud.points['z'][0], [1.5, 2.0])


def test_read_only_inputs_like_ros_message_buffers(recwarn):
    depth, image, labels = frame()
    depth, image, labels = (np.frombuffer(a.tobytes(), a.dtype).reshape(a.shape) for a in (depth, image, labels))
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(with_normals=True, stride=4))
    assert cloud.width > 1000 and not recwarn.list


def test_intrinsics_of_another_size_are_scaled_to_the_depth():
    u = (np.arange(320) + 0.5) * 2 - 0.5
    v = (np.arange(240) + 0.5) * 2 - 0.5
    cloud = build_cloud(plane_depth(u=u, v=v), INTR, options=CloudOptions(color_source='none'))
    assert cloud.width == 320 * 240 and plane_error(xyz(cloud.points)).max() < 1e-3


def test_all_invalid_gives_an_empty_cloud():
    depth = np.full((4, 5), np.nan, np.float32)
    cloud = build_cloud(depth, Intrinsics(5.0, 5.0, 2.0, 1.5, 5, 4), image=np.zeros((4, 5, 3), np.uint8))
    assert (cloud.height, cloud.width, cloud.row_step, cloud.is_dense) == (1, 0, 0, True)


@pytest.mark.parametrize('kwargs, message', [
    ({'labels': np.zeros((10, 10), np.uint8)}, 'labels must be H x W = 480 x 640'),
    ({'image': np.zeros((480, 640), np.uint8)}, 'image must be H x W x 3 or 3 x H x W'),
    ({'image': None}, "color_source 'image' needs an image"),
    ({'labels': np.full((480, 640), 300, np.int32)}, r'labels must be train ids in 0\.\.255'),
    ({'labels': np.zeros((480, 640), np.float32)}, 'labels must be integer'),
])
def test_input_mistakes_are_named(kwargs, message):
    inputs = {'image': np.zeros((480, 640, 3), np.uint8)} | kwargs
    with pytest.raises(ValueError, match=message):
        build_cloud(plane_depth(), INTR, **inputs)


def test_depth_mistakes_are_named():
    with pytest.raises(ValueError, match='depth must be H x W'):
        build_cloud(plane_depth()[None], INTR, options=CloudOptions(color_source='none'))
    with pytest.raises(ValueError, match='depth must be float metres or uint16'):
        build_cloud(plane_depth().astype(np.int32), INTR, options=CloudOptions(color_source='none'))
    with pytest.raises(ValueError, match="color_source 'semantic' needs labels"):
        build_cloud(plane_depth(), INTR, options=CloudOptions(color_source='semantic'))


@pytest.mark.parametrize('kwargs, message', [
    ({'stride': 0}, 'stride'), ({'min_range': 5.0, 'max_range': 2.0}, 'min_range < max_range'),
    ({'max_range': math.nan}, 'max_range'), ({'voxel_size': -0.1}, 'voxel_size'),
    ({'drop_classes': (256,)}, 'drop_classes'), ({'color_source': 'depth'}, 'color_source'),
    ({'outlier_neighbors': -1}, 'outlier_neighbors'), ({'outlier_std_ratio': 0.0}, 'outlier_std_ratio'),
    ({'organized': True, 'voxel_size': 0.1}, 'organized=False'),
])
def test_option_mistakes_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CloudOptions(**kwargs)


def test_normals_from_depth_when_none_are_given():
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(with_normals=True))
    assert [f.name for f in cloud.fields][-3:] == ['normal_x', 'normal_y', 'normal_z'] and cloud.point_step == 32
    normals = np.stack([cloud.points[n][0] for n in ('normal_x', 'normal_y', 'normal_z')], axis=-1)
    finite = np.isfinite(normals).all(axis=1)
    assert not cloud.is_dense and not finite.all()  # no normal at the image border: is_dense must not promise one
    normals = normals[finite]
    assert len(normals) > 0.9 * cloud.width
    np.testing.assert_allclose(normals, np.broadcast_to(-NORMAL, normals.shape), atol=1e-3)


def test_given_normals_are_used_and_rotated_with_the_points():
    depth = np.full((2, 2), 5.0, np.float32)
    normals = torch.tensor([0.0, 0.0, -1.0])[:, None, None].expand(3, 2, 2)
    yaw90 = RigidTransform.from_translation_quaternion((1.0, 2.0, 3.0), (0.0, 0.0, math.sqrt(0.5), math.sqrt(0.5)))
    intr = Intrinsics(5.0, 5.0, 0.0, 0.0, 2, 2)
    cloud = build_cloud(depth, intr, normals=normals, transform=yaw90,
                        options=CloudOptions(with_normals=True, color_source='none', organized=True))
    # Pixel (u=1, v=0) sees (1, 0, 5); a quarter turn about z takes (x, y, z) to (-y, x, z), then + (1, 2, 3).
    point = cloud.points[0, 1]
    np.testing.assert_allclose([point['x'], point['y'], point['z']], [1.0, 3.0, 8.0], atol=1e-6)
    np.testing.assert_allclose([point['normal_x'], point['normal_y'], point['normal_z']], [0, 0, -1], atol=1e-6)


def test_optical_frame_to_body_frame_transform():
    # Body frame (x forward, y left, z up) from the optical frame: tf2's rpy (-pi/2, 0, -pi/2), camera 1.2 m up.
    to_body = RigidTransform.from_translation_rpy((0.1, 0.0, 1.2), (-math.pi / 2, 0.0, -math.pi / 2))
    intr = Intrinsics(1.0, 1.0, 1.0, 1.0, 3, 3)
    depth = np.full((3, 3), 4.0, np.float32)
    cloud = build_cloud(depth, intr, transform=to_body, options=CloudOptions(color_source='none', organized=True))
    # Straight ahead 4 m -> 4 m forward; pixel right and down of centre -> right (y < 0) and down (z lower).
    np.testing.assert_allclose(xyz(cloud.points)[1, 1], [4.1, 0.0, 1.2], atol=1e-6)
    np.testing.assert_allclose(xyz(cloud.points)[2, 2], [4.1, -4.0, -2.8], atol=1e-6)
    same = RigidTransform.from_translation_quaternion((0.1, 0.0, 1.2), (-0.5, 0.5, -0.5, 0.5))
    np.testing.assert_allclose(same.rotation, to_body.rotation, atol=1e-12)


def test_transforms_compose_and_invert_as_points_move():
    to_body = RigidTransform.from_translation_rpy((0.1, 0.0, 1.2), (-math.pi / 2, 0.0, -math.pi / 2))
    to_odom = RigidTransform.from_translation_rpy((5.0, -2.0, 0.0), (0.0, 0.05, 0.7))
    points = torch.tensor([[0.0, 0.0, 4.0], [1.0, -2.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(to_odom.after(to_body).apply(points), to_odom.apply(to_body.apply(points)))
    torch.testing.assert_close(to_body.inverse().apply(to_body.apply(points)), points)


@pytest.mark.parametrize('quaternion, message', [
    ((0.0, 0.0, 0.0, 2.0), 'not normalised'), ((0.0, 0.0, 0.0, 0.0), 'not normalised'),
    ((0.0, 0.0, math.nan, 1.0), 'quaternion'), ((0.0, 1.0), 'quaternion'),
])
def test_bad_quaternions_are_rejected(quaternion, message):
    with pytest.raises(ValueError, match=message):
        RigidTransform.from_translation_quaternion((0.0, 0.0, 0.0), quaternion)
    with pytest.raises(ValueError, match='translation'):
        RigidTransform.from_translation_rpy((0.0, math.inf, 0.0), (0.0, 0.0, 0.0))


def test_voxel_downsampling_averages_and_votes():
    # Rows x, y, z, rgb, label, normal_x/y/z: three points in one 1 m voxel, one in another.
    names = ('x', 'y', 'z', 'rgb', 'label', 'normal_x', 'normal_y', 'normal_z')
    rows = torch.tensor([[0.1, 0.1, 0.1], [0.3, 0.2, 0.9], [0.2, 0.6, 0.2], [5.5, 0.5, 0.5]])
    rgb = torch.tensor([0x000A0000, 0x00140000, 0x00000003, 0x00FFFFFF], dtype=torch.int32)
    labels = torch.tensor([7, 2, 7, 2], dtype=torch.int32)
    normals = torch.tensor([[0.0, 0.0, -1.0], [0.0, 0.0, -1.0], [math.nan] * 3, [1.0, 0.0, 0.0]])
    points = torch.cat([rows, rgb.view(torch.float32)[:, None], labels.view(torch.float32)[:, None], normals], 1)
    out = voxel_downsample(points, names, 1.0)
    assert len(out) == 2
    torch.testing.assert_close(out[0, :3], torch.tensor([0.2, 0.3, 0.4]))
    ints = out.view(torch.int32)
    assert ints[0, 3].item() == (10 << 16) | 1 and ints[1, 3].item() == 0x00FFFFFF  # (10+20+0)/3, 0, 3/3
    assert ints[:, 4].tolist() == [7, 2]
    torch.testing.assert_close(out[:, 5:], torch.tensor([[0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]))
    tie = voxel_downsample(points[:2], names, 1.0)
    assert tie.view(torch.int32)[0, 4].item() == 2  # equally frequent: the smaller id


def test_voxel_cloud_is_smaller_and_still_on_the_plane():
    depth, image, labels = frame()
    cloud = build_cloud(depth, INTR, image=image, labels=labels, options=CloudOptions(voxel_size=0.05))
    cells = np.floor(xyz(cloud.points)[0] / 0.05)
    assert len(np.unique(cells, axis=0)) == cloud.width
    assert 1000 < cloud.width < 20000
    assert plane_error(xyz(cloud.points)).max() < 1e-3


def test_statistical_outliers_are_removed():
    depth = plane_depth()
    spikes = (np.arange(50) * 9, np.arange(50) * 12)
    depth[spikes] = 40.0
    options = CloudOptions(color_source='none', outlier_neighbors=8, outlier_std_ratio=2.0)
    cloud = build_cloud(depth, INTR, options=options)
    assert plane_error(xyz(cloud.points)).max() < 1e-3
    assert cloud.width >= depth.size - 50 - 0.01 * depth.size
    rows = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert remove_statistical_outliers(rows, 8, 2.0) is rows  # fewer points than neighbours: nothing to judge
