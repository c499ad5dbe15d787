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

"""Between rclpy messages and the core: results out as Image, CameraInfo, PointCloud2, PoseStamped and
OccupancyGrid (filled from `message_fields`, as `bag/` fills rosbags' messages), tf2 transforms in. Camera
images come in through `vision_banana_ros.camera_images`, which works on these messages too.
"""
from __future__ import annotations

import array

from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion, Transform, TransformStamped
from nav_msgs.msg import MapMetaData, OccupancyGrid
import numpy as np
from sensor_msgs.msg import CameraInfo, Image, PointCloud2, PointField

from ..geometry import CloudPayload, RigidTransform
from ..message_fields import camera_info_fields, data_bytes, image_fields, point_cloud_fields
from ..outputs import DepthCameraInfo, Output

# The message type of each output topic (under the camera's namespace).
OUTPUT_TYPES = {'semantic/labels': Image, 'semantic/confidence': Image, 'semantic/color': Image, 'depth': Image,
                'depth/camera_info': CameraInfo, 'normals': Image, 'normals/raw': Image, 'points': PointCloud2,
                'ground': PoseStamped, 'obstacles': PointCloud2, 'ground_points': PointCloud2, 'grid': OccupancyGrid}

# Generated setters keep an array('B') as it is while they check fields (always on Humble, opt-in since Jazzy)
# and copy it otherwise; checking the few other fields costs microseconds, a copy of the pixels milliseconds.
KEEP_DATA = {'check_fields': True} if '_check_fields' in Image.__slots__ else {}


def message_bytes(values: np.ndarray) -> array.array:
    """The one copy of an array into a message's uint8[] field (assigning an ndarray converts element-wise)."""
    data = array.array('B')
    data.frombytes(data_bytes(values))
    return data


def array_to_image(values: np.ndarray, header) -> Image:
    """uint8 H x W (mono8) or H x W x 3 (rgb8), float32 H x W (32FC1) or H x W x 3 (32FC3) -> Image."""
    fields = image_fields(values)
    pixels = fields.pop('data')
    msg = Image(header=header, **fields, **KEEP_DATA)
    msg.data = message_bytes(pixels)
    return msg


def to_camera_info(info: DepthCameraInfo, header) -> CameraInfo:
    """A sensor_msgs/CameraInfo of `info` under `header`."""
    return CameraInfo(header=header, **camera_info_fields(info))


def to_point_cloud2(payload: CloudPayload, header) -> PointCloud2:
    """The payload as a PointCloud2 stamped with `header` (whose frame_id must be the payload's frame)."""
    fields = point_cloud_fields(payload)
    points = fields.pop('data')
    point_fields = [PointField(**f) for f in fields.pop('fields')]
    msg = PointCloud2(header=header, fields=point_fields, **fields, **KEEP_DATA)
    msg.data = message_bytes(points)
    return msg


def output_message(output: Output, header):
    """An `outputs.Output` as the message its topic publishes, stamped with the input image's header."""
    if output.kind == 'image':
        return array_to_image(output.payload, header)
    if output.kind == 'camera_info':
        return to_camera_info(output.payload, header)
    if output.kind == 'pose':
        return PoseStamped(header=header, pose=_pose(output.payload.position, output.payload.orientation_xyzw))
    # clouds and the grid may be published in another frame (target_frame, grid_frame)
    framed = type(header)(stamp=header.stamp, frame_id=output.frame_id or header.frame_id)
    if output.kind == 'grid':
        grid = output.payload
        rows, columns = grid.cells.shape
        info = MapMetaData(map_load_time=header.stamp, resolution=grid.resolution, width=columns, height=rows,
                           origin=_pose(grid.origin, grid.orientation_xyzw))
        msg = OccupancyGrid(header=framed, info=info)
        msg.data = array.array('b', grid.cells.tobytes())
        return msg
    return to_point_cloud2(output.payload, framed)


def _pose(position, orientation_xyzw) -> Pose:
    (x, y, z), (qx, qy, qz, qw) = position, orientation_xyzw
    return Pose(position=Point(x=x, y=y, z=z), orientation=Quaternion(x=qx, y=qy, z=qz, w=qw))


def transform_from_msg(msg: Transform | TransformStamped) -> RigidTransform:
    """A tf2 transform (e.g. from lookup_transform(target_frame, camera_frame)) as a RigidTransform."""
    transform = msg.transform if isinstance(msg, TransformStamped) else msg
    t, q = transform.translation, transform.rotation
    return RigidTransform.from_translation_quaternion((t.x, t.y, t.z), (q.x, q.y, q.z, q.w))
