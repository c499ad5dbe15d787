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

"""Messages as rosbags writes them (its typestore), built from the same payloads the node publishes."""
from __future__ import annotations

import numpy as np
from rosbags.typesys import get_typestore, Stores

from ..geometry import CloudPayload
from ..message_fields import camera_info_fields, image_fields, point_cloud_fields
from ..outputs import DepthCameraInfo

TYPESTORE = get_typestore(Stores.ROS2_KILTED)
T = TYPESTORE.types
IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED_IMAGE = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
POINT_CLOUD2 = 'sensor_msgs/msg/PointCloud2'
POSE_STAMPED = 'geometry_msgs/msg/PoseStamped'
OCCUPANCY_GRID = 'nav_msgs/msg/OccupancyGrid'
TF = 'tf2_msgs/msg/TFMessage'


def header(stamp_ns: int, frame_id: str):
    """A std_msgs/Header at `stamp_ns` nanoseconds in `frame_id`."""
    stamp = T['builtin_interfaces/msg/Time'](sec=int(stamp_ns // 10**9), nanosec=int(stamp_ns % 10**9))
    return T['std_msgs/msg/Header'](stamp=stamp,
                                    frame_id=frame_id)


def stamp_ns(msg_header) -> int:
    """A header's stamp in nanoseconds."""
    return int(msg_header.stamp.sec) * 10**9 + int(msg_header.stamp.nanosec)


def with_frame(msg_header, frame_id: str | None):
    """The header, with its frame replaced when `frame_id` is given."""
    return msg_header if frame_id is None else T['std_msgs/msg/Header'](stamp=msg_header.stamp, frame_id=frame_id)


def image(values: np.ndarray, msg_header):
    """A sensor_msgs/Image of `values` under `msg_header`."""
    return T[IMAGE](header=msg_header, **image_fields(values))


def camera_info(info: DepthCameraInfo, msg_header):
    """A sensor_msgs/CameraInfo of `info` under `msg_header`."""
    fields = camera_info_fields(info)
    fields.update({name: np.array(fields[name], np.float64) for name in ('d', 'k', 'r', 'p')})  # float64[] fields
    roi = T['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return T[CAMERA_INFO](header=msg_header, **fields, binning_x=0, binning_y=0, roi=roi)


def point_cloud2(payload: CloudPayload, msg_header):
    """A sensor_msgs/PointCloud2 of `payload` under `msg_header`."""
    fields = point_cloud_fields(payload)
    point_fields = [T['sensor_msgs/msg/PointField'](**f) for f in fields.pop('fields')]
    return T[POINT_CLOUD2](header=msg_header, fields=point_fields, **fields)


def _pose(position, orientation_xyzw):
    (x, y, z), (qx, qy, qz, qw) = position, orientation_xyzw
    return T['geometry_msgs/msg/Pose'](position=T['geometry_msgs/msg/Point'](x=x, y=y, z=z),
                                       orientation=T['geometry_msgs/msg/Quaternion'](x=qx, y=qy, z=qz, w=qw))


def occupancy_grid(grid, msg_header):
    """A nav_msgs/OccupancyGrid of a `geometry.navigation.GridPayload` under `msg_header`."""
    rows, columns = grid.cells.shape
    info = T['nav_msgs/msg/MapMetaData'](map_load_time=msg_header.stamp, resolution=grid.resolution, width=columns,
                                         height=rows, origin=_pose(grid.origin, grid.orientation_xyzw))
    return T[OCCUPANCY_GRID](header=msg_header, info=info, data=grid.cells.reshape(-1).astype(np.int8))


def output_message(output, msg_header):
    """An `outputs.Output` as a (msgtype, message) pair."""
    if output.kind == 'image':
        return IMAGE, image(output.payload, msg_header)
    if output.kind == 'camera_info':
        return CAMERA_INFO, camera_info(output.payload, msg_header)
    if output.kind == 'pose':
        pose = output.payload
        return POSE_STAMPED, T[POSE_STAMPED](header=msg_header, pose=_pose(pose.position, pose.orientation_xyzw))
    if output.kind == 'grid':
        return OCCUPANCY_GRID, occupancy_grid(output.payload, with_frame(msg_header, output.frame_id))
    return POINT_CLOUD2, point_cloud2(output.payload, with_frame(msg_header, output.frame_id))


def serialize(message, msgtype: str) -> bytes:
    """The CDR bytes of a message of type `msgtype`, as a bag stores them."""
    return bytes(TYPESTORE.serialize_cdr(message, msgtype))
