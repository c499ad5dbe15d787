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

"""Result arrays -> the plain fields of sensor_msgs Image, CameraInfo and PointCloud2, with no ROS types: the node
fills rclpy's message classes with them (`ros.messages`) and `bag/` fills rosbags' (`bag.messages`), so online
and offline outputs are the same messages.
"""
from __future__ import annotations

import numpy as np

from .geometry import CloudPayload
from .outputs import DepthCameraInfo, image_encoding

IDENTITY_3X3 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def data_bytes(values: np.ndarray) -> np.ndarray:
    """The array's bytes as a flat uint8 view, as a uint8[] `data` field holds them (copied only if not contiguous)."""
    return np.ascontiguousarray(values).reshape(-1).view(np.uint8)


def image_fields(values: np.ndarray) -> dict:
    """uint8 H x W (mono8) or H x W x 3 (rgb8), float32 H x W (32FC1) or H x W x 3 (32FC3) -> Image fields."""
    encoding, step = image_encoding(values)
    height, width = values.shape[:2]
    return {'height': height, 'width': width, 'encoding': encoding, 'is_bigendian': 0, 'step': step,
            'data': data_bytes(values)}


def camera_info_fields(info: DepthCameraInfo) -> dict:
    """CameraInfo fields of depth/camera_info (R is the identity: the depth image is in the camera's own frame)."""
    i = info.intrinsics
    return {'height': i.height, 'width': i.width, 'distortion_model': info.distortion_model, 'd': tuple(info.d),
            'k': i.k, 'r': IDENTITY_3X3, 'p': i.p}


def point_cloud_fields(payload: CloudPayload) -> dict:
    """PointCloud2 fields; `fields` holds one dict of PointField fields per point field."""
    return {'height': payload.height, 'width': payload.width, 'is_bigendian': False,
            'fields': [{'name': f.name, 'offset': f.offset, 'datatype': f.datatype, 'count': f.count}
                       for f in payload.fields],
            'point_step': payload.point_step, 'row_step': payload.row_step, 'is_dense': payload.is_dense,
            'data': data_bytes(payload.points)}
