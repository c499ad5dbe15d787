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

"""scale_lock ground in the node: each camera's GroundLock, rebuilt when the lock's parameters change, and the
camera's height from camera_height_m or its mounting (height, and the ground's tilt in the image frame) from tf
(ground_frame -> the image frame at the image stamp).
"""
from __future__ import annotations

from rclpy.time import Time

from .camera import Camera
from .messages import transform_from_msg
from ..config import NodeConfig
from ..geometry.ground import LockState
from ..outputs import configured_ground_lock, ground_as_configured


def tf_lookup(tf_buffer, header):
    """`lookup(target, source)` as outputs.tf_mounting takes it: tf2's transform at the image stamp."""
    # No waiting: this is the engine's thread; a camera mount is usually static, so tf has it at any stamp.
    def lookup(target, source):
        return transform_from_msg(tf_buffer.lookup_transform(target, source, Time.from_msg(header.stamp)))
    return lookup


def lock_camera_depth(camera: Camera, result, config: NodeConfig, topics, tf_buffer) -> LockState | None:
    """`ground_as_configured` with the camera's lock (made anew when its settings change) and tf2; the camera keeps
    the state for its diagnostics.
    """
    settings = (config.ground_classes, config.ground_min_fraction, config.level_floor_deg, config.scale_smoothing)
    if camera.ground_lock is None or camera.ground_lock[0] != settings:
        camera.ground_lock = (settings, configured_ground_lock(config))
    camera.ground = ground_as_configured(result, camera.ground_lock[1], config, tf_lookup(tf_buffer, result.header),
                                         topics)
    return camera.ground
