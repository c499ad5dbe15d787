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

from dataclasses import replace

from rclpy.time import Time

from .camera import Camera
from .messages import transform_from_msg
from ..config import NodeConfig
from ..geometry.ground import camera_mounting, LockState
from ..outputs import configured_ground_lock, lock_depth, NAVIGATION_TOPICS


def needs_tf(config: NodeConfig) -> bool:
    """Whether the lock takes the camera height from tf."""
    return config.scale_lock == 'ground' and config.camera_height_m == 0


def _tf_mounting(config: NodeConfig, header, tf_buffer) -> tuple[float, tuple] | str:
    """The image frame's height above ground_frame at the image stamp and the ground's up direction in the
    image frame, or why there are none.
    """
    try:
        # No waiting: this is the engine's thread; a camera mount is usually static, so tf has it at any stamp.
        t = tf_buffer.lookup_transform(config.ground_frame, header.frame_id, Time.from_msg(header.stamp))
        height, up = camera_mounting(transform_from_msg(t))
    except Exception as exc:  # tf2 raises several exception types for missing or stale frames
        return f'no camera height from tf ({config.ground_frame} -> {header.frame_id}): {exc}'
    if not height > 0:
        return f'the camera is not above {config.ground_frame} (z = {height:.3f} m)'
    return height, up


def lock_camera_depth(camera: Camera, result, config: NodeConfig, topics, tf_buffer) -> LockState | None:
    """Ground-lock the result's depth in place, or with the lock off fit only the plane that the navigation
    `topics` need (None when neither is wanted or the frame has no depth or labels); the camera keeps the state
    for its diagnostics.
    """
    locking = config.scale_lock == 'ground'
    if not (locking or set(topics) & set(NAVIGATION_TOPICS)) or result.depth is None or result.labels is None:
        camera.ground = None
        return None
    settings = (config.ground_classes, config.ground_min_fraction, config.scale_smoothing)
    if camera.ground_lock is None or camera.ground_lock[0] != settings:
        camera.ground_lock = (settings, configured_ground_lock(config))
    mounting = ((config.camera_height_m, None) if config.camera_height_m
                else _tf_mounting(config, result.header, tf_buffer)) if locking else (None, None)
    if isinstance(mounting, str):     # no height to lock to: the plane still serves the navigation outputs
        state = lock_depth(result, camera.ground_lock[1], None)
        camera.ground = replace(state, reason=mounting) if state.plane is not None else state
    else:
        camera.ground = lock_depth(result, camera.ground_lock[1], *mounting)
    return camera.ground
