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

"""PointCloud2 messages read back through rosbags' CDR deserializer and a reader written here from the
PointField list alone (as RViz and sensor_msgs_py read clouds), independent of the writer.
"""
import math
import struct

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion, Transform, TransformStamped, Vector3
import numpy as np
from plane_scene import CX, CY, FX, FY, HEIGHT, plane_depth, plane_error, WIDTH
import pytest
from rclpy.serialization import serialize_message
from rosbags.typesys import get_typestore, Stores
from sensor_msgs.msg import CameraInfo, PointField, RegionOfInterest
from std_msgs.msg import Header
import torch

from vision_banana_ros.geometry import build_cloud, CloudOptions, Intrinsics
from vision_banana_ros.ros.messages import to_point_cloud2, transform_from_msg

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
NUMPY_TYPES = {PointField.INT8: 'i1', PointField.UINT8: 'u1', PointField.INT16: '<i2', PointField.UINT16: '<u2',
               PointField.INT32: '<i4', PointField.UINT32: '<u4', PointField.FLOAT32: '<f4',
               PointField.FLOAT64: '<f8'}
SKY = 10


def round_trip(msg):
    return TYPESTORE.deserialize_cdr(serialize_message(msg), 'sensor_msgs/msg/PointCloud2')


def read_points(msg):
    """Height x width structured array from the message's own field list, point_step and row_step."""
    assert not msg.is_bigendian
    dtype = np.dtype({'names': [f.name for f in msg.fields], 'formats': [NUMPY_TYPES[f.datatype] for f in msg.fields],
                      'offsets': [f.offset for f in msg.fields], 'itemsize': msg.point_step})
    data = np.asarray(msg.data, dtype=np.uint8)
    assert len(data) == msg.row_step * msg.height
    rows = data.reshape(msg.height, msg.row_step)[:, :msg.width * msg.point_step]
    return np.ascontiguousarray(rows).view(dtype).reshape(msg.height, msg.width)


def scene():
    rng = np.random.default_rng(2)
    depth = plane_depth()
    depth[200:220] = np.nan
    image = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    labels = rng.integers(0, 19, (HEIGHT, WIDTH), dtype=np.uint8)
    return depth, image, labels


def header():
    return Header(stamp=Time(sec=1700000000, nanosec=123), frame_id='camera_optical_frame')


def test_unorganized_cloud_reads_back_as_rviz_and_sensor_msgs_py_would():
    depth, image, labels = scene()
    cloud = build_cloud(depth, Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT), image=image, labels=labels)
    msg = round_trip(to_point_cloud2(cloud, header()))

    assert (msg.header.frame_id, msg.header.stamp.sec, msg.header.stamp.nanosec) == (
        'camera_optical_frame', 1700000000, 123)
    assert [(f.name, f.offset, f.datatype, f.count) for f in msg.fields] == [
        ('x', 0, PointField.FLOAT32, 1), ('y', 4, PointField.FLOAT32, 1), ('z', 8, PointField.FLOAT32, 1),
        ('rgb', 12, PointField.FLOAT32, 1), ('label', 16, PointField.UINT32, 1)]
    keep = np.isfinite(depth) & (labels != SKY)
    assert (msg.height, msg.width, msg.point_step, msg.row_step) == (1, keep.sum(), 20, 20 * keep.sum())
    assert msg.is_dense and not msg.is_bigendian

    points = read_points(msg)[0]
    assert plane_error(np.stack([points['x'], points['y'], points['z']], axis=1)).max() < 1e-3
    np.testing.assert_array_equal(points['label'], labels[keep])
    # RViz reads rgb as a uint32 0x00RRGGBB.
    packed = points['rgb'].view(np.uint32)
    np.testing.assert_array_equal(np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=1), image[keep])
    # And byte by byte, for one point.
    i = 1234
    x, y, z, rgb, label = struct.unpack_from('<fffIB', msg.data.tobytes(), i * msg.point_step)
    assert (x, y, z) == (points['x'][i], points['y'][i], points['z'][i])
    assert (rgb >> 16, (rgb >> 8) & 255, rgb & 255) == tuple(image[keep][i]) and label == labels[keep][i]


def test_organized_cloud_message():
    depth, image, labels = scene()
    cloud = build_cloud(depth, Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT), image=image, labels=labels,
                        options=CloudOptions(organized=True, with_normals=True))
    msg = round_trip(to_point_cloud2(cloud, header()))
    assert (msg.height, msg.width, msg.point_step, msg.row_step, msg.is_dense) == (HEIGHT, WIDTH, 32, 32 * WIDTH,
                                                                                   False)
    assert [f.name for f in msg.fields][-3:] == ['normal_x', 'normal_y', 'normal_z']
    points = read_points(msg)
    invalid = ~np.isfinite(depth) | (labels == SKY)
    assert np.isnan(points['x'][invalid]).all() and np.isfinite(points['z'][~invalid]).all()
    np.testing.assert_array_equal(points['label'], labels)


def test_message_data_holds_exactly_the_payload():
    cloud = build_cloud(plane_depth(), Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT),
                        options=CloudOptions(color_source='none', stride=5))
    msg = to_point_cloud2(cloud, header())
    assert msg.data.typecode == 'B'
    assert msg.data.tobytes() == cloud.points.tobytes()


def camera_info(**kwargs):
    info = CameraInfo(width=1280, height=960, **kwargs)
    info.k = [1050.0, 0.0, 638.6, 0.0, 1040.0, 483.4, 0.0, 0.0, 1.0]
    info.p = [1000.0, 0.0, 640.0, 0.0, 0.0, 1000.0, 480.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    return info


def test_camera_info_adapter():
    intr = Intrinsics.from_camera_info(camera_info())
    assert (intr.fx, intr.fy, intr.cx, intr.cy, intr.width, intr.height) == (1050, 1040, 638.6, 483.4, 1280, 960)
    rect = Intrinsics.from_camera_info(camera_info(), rectified=True)
    assert (rect.fx, rect.cx) == (1000, 640)
    binned = Intrinsics.from_camera_info(camera_info(binning_x=2, binning_y=2, roi=RegionOfInterest(
        x_offset=40, y_offset=20, width=1200, height=900)))
    assert (binned.fx, binned.cx, binned.cy, binned.width, binned.height) == (525, 299.3, 231.7, 600, 450)
    with pytest.raises(ValueError, match='uncalibrated'):
        Intrinsics.from_camera_info(CameraInfo(width=640, height=480))


def test_depth_smaller_than_the_camera_info_gives_the_right_cloud():
    # Camera at 1280x960 (the scene's intrinsics doubled); the model answered at 640x480.
    info = camera_info()
    info.k = [2 * FX, 0.0, 2 * CX + 0.5, 0.0, 2 * FY, 2 * CY + 0.5, 0.0, 0.0, 1.0]
    cloud = build_cloud(plane_depth(), Intrinsics.from_camera_info(info), options=CloudOptions(color_source='none'))
    points = read_points(round_trip(to_point_cloud2(cloud, header())))[0]
    assert len(points) == WIDTH * HEIGHT
    assert plane_error(np.stack([points['x'], points['y'], points['z']], axis=1)).max() < 1e-3


def test_transform_from_tf2_message():
    half = math.sqrt(0.5)
    stamped = TransformStamped(transform=Transform(translation=Vector3(x=1.0, y=2.0, z=3.0),
                                                   rotation=Quaternion(x=half, y=0.0, z=0.0, w=half)))
    transform = transform_from_msg(stamped)
    # A quarter turn about x takes (x, y, z) to (x, -z, y).
    moved = transform.apply(torch.tensor([[1.0, 2.0, 5.0]], dtype=torch.float64))
    torch.testing.assert_close(moved, torch.tensor([[2.0, -3.0, 5.0]], dtype=torch.float64))
    assert np.array_equal(transform_from_msg(stamped.transform).rotation, transform.rotation)
