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

"""What each output topic holds for one engine result, without ROS types: the node publishes these with rclpy
messages and `vision_banana bag process` writes them with rosbags messages, so online and offline agree.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from .engine.upright import upright_turn
from .geometry import build_cloud, Intrinsics, RigidTransform
from .geometry.ground import camera_mounting, GroundLock, level_pixels, LOCKED_LEVEL, LockState
from .geometry.intrinsics import finite_distortion
from .geometry.navigation import grid_in_frame, navigation_masks, occupancy_grid

# Output topic (under the camera's namespace) -> the tasks it needs.
OUTPUT_TASKS = {
    'semantic/labels': ('segmentation',),
    'semantic/confidence': ('segmentation',),
    'semantic/color': ('segmentation',),
    'depth': ('depth',),
    'depth/camera_info': ('depth',),
    'normals': ('normals',),
    'normals/raw': ('normals',),
    'points': ('segmentation', 'depth'),
    'ground': ('segmentation', 'depth'),      # with scale_lock ground only
    'obstacles': ('segmentation', 'depth'),
    'ground_points': ('segmentation', 'depth'),
    'grid': ('segmentation', 'depth'),
}
NAVIGATION_TOPICS = ('obstacles', 'ground_points', 'grid')   # they need the ground plane, locked or not
CLOUD_TOPICS = ('points', 'obstacles', 'ground_points')      # target_frame moves them


_IMAGE_ENCODINGS = {('uint8', 2): ('mono8', 1), ('uint8', 3): ('rgb8', 3), ('float32', 2): ('32FC1', 4),
                    ('float32', 3): ('32FC3', 12)}


def image_encoding(values: np.ndarray) -> tuple[str, int]:
    """The sensor_msgs/Image encoding and row step of a result array: uint8 H x W (mono8) or H x W x 3 (rgb8),
    float32 H x W (32FC1) or H x W x 3 (32FC3).
    """
    key = (values.dtype.name, values.ndim)
    if key not in _IMAGE_ENCODINGS or (values.ndim == 3 and values.shape[2] != 3):
        raise ValueError(f'no image encoding for a {values.dtype} array of shape {values.shape}')
    encoding, bytes_per_pixel = _IMAGE_ENCODINGS[key]
    return encoding, values.shape[1] * bytes_per_pixel


class Output(NamedTuple):
    """One message the node publishes for a frame: its kind, payload and frame."""

    kind: str      # 'image' (array), 'camera_info' (DepthCameraInfo), 'cloud' (CloudPayload), 'pose', 'grid'
    payload: Any
    frame_id: str | None = None   # None: the input image's frame


class DepthCameraInfo(NamedTuple):
    """What depth/camera_info says. The depth image has the camera image's size and geometry: its lens
    distortion too, unless the input was rectified (distortion coefficients do not change with image scale).
    """

    intrinsics: Intrinsics
    distortion_model: str = 'plumb_bob'
    d: tuple[float, ...] = (0.0,) * 5


def depth_camera_info(intrinsics: Intrinsics, source, rectified: bool) -> DepthCameraInfo:
    """`source`: the input's CameraInfo (rclpy or rosbags), or None. Distortion that is not all finite is never
    passed on: the depth image then says it has none (its intrinsics came from the fallback field of view anyway).
    """
    if source is None or rectified or not source.distortion_model or not finite_distortion(source):
        return DepthCameraInfo(intrinsics)
    return DepthCameraInfo(intrinsics, source.distortion_model, tuple(float(v) for v in source.d))


class GroundPose(NamedTuple):
    """<cam>/ground: the fitted ground plane as a pose in the image frame, under the camera, z along the normal."""

    position: tuple[float, float, float]
    orientation_xyzw: tuple[float, float, float, float]


def configured_ground_lock(config) -> GroundLock:
    """A camera's GroundLock with the configured ground classes, least ground share, level floor and smoothing."""
    return GroundLock(config.ground_classes, config.ground_min_fraction, smoothing=config.scale_smoothing,
                      level_floor_deg=config.level_floor_deg)


def lock_depth(result, lock: GroundLock, camera_height: float | None, up=None) -> LockState:
    """scale_lock ground: rescale the result's depth in place so that the camera stands `camera_height` metres
    above the ground fitted under it (or the ground whose `up` direction in the image frame the mounting gives);
    unscaled when the lock refuses (the state says why) or `camera_height` is None (the plane only, for the
    navigation outputs).
    """
    state = lock.update(result.depth, result.labels, result.intrinsics, camera_height, up, result.normals)
    if state.locked:
        result.depth = result.depth * np.float32(state.scale)
    return state


def level_floor(ground: LockState, normals: np.ndarray | None, level_floor_deg: float) -> np.ndarray | None:
    """The level pixels (`level_pixels`) of a frame the lock found the floor of by its normals, for the navigation
    outputs (indoors the floor has no class); None for any other frame.
    """
    return level_pixels(normals, ground.plane.up, level_floor_deg) if ground.reason == LOCKED_LEVEL else None


def tf_mounting(lookup, ground_frame: str, image_frame: str) -> tuple[float, np.ndarray] | str:
    """The image frame's height above `ground_frame` and the ground's up direction in the image frame, from
    `lookup(target, source)` (the transform target <- source at the image stamp, from tf2 or a bag's tf), or why
    there are none.
    """
    mounting = _mounting(lookup, ground_frame, image_frame)
    if not isinstance(mounting, str) and not mounting[0] > 0:
        return f'the camera is not above {ground_frame} (z = {mounting[0]:.3f} m)'
    return mounting


def _mounting(lookup, ground_frame: str, image_frame: str) -> tuple[float, np.ndarray] | str:
    """camera_mounting of what `lookup` gives, or why it gives nothing."""
    try:
        return camera_mounting(lookup(ground_frame, image_frame))
    except Exception as exc:  # tf2 raises several exception types for missing or stale frames
        return f'no camera mounting from tf ({ground_frame} -> {image_frame}): {exc}'


def upright_turn_as_configured(config, lookup, image_frame: str) -> float | str:
    """upright: how far the engine turns this camera's image (FrameRequest.turn_deg; 0 with upright off or a
    roll below upright_min_roll_deg), from the rotation of its mounting that `lookup` gives (as in tf_mounting; the
    height does not matter), or why it cannot.
    """
    if not config.upright:
        return 0.0
    mounting = _mounting(lookup, config.ground_frame, image_frame)
    return mounting if isinstance(mounting, str) else upright_turn(mounting[1], config.upright_min_roll_deg)


def lock_depth_as_configured(result, lock: GroundLock, config, lookup) -> LockState:
    """scale_lock ground: lock_depth to camera_height_m where it is set, else to the camera's mounting from
    `lookup` (as in tf_mounting: tf2 in the node, the bag's tf in `bag process`). Without a mounting the plane is
    still fitted (for the navigation outputs) and the state gives the reason.
    """
    if not config.lock_needs_tf:
        return lock_depth(result, lock, config.camera_height_m)
    mounting = tf_mounting(lookup, config.ground_frame, result.header.frame_id)
    if isinstance(mounting, str):
        state = lock_depth(result, lock, None)
        return replace(state, reason=mounting if state.plane_holds else f'{mounting}; {state.reason}')
    return lock_depth(result, lock, *mounting)


def ground_as_configured(result, lock: GroundLock, config, lookup, topics) -> LockState | None:
    """What the ground does for this result: with scale_lock ground, lock_depth_as_configured; with the lock off,
    the plane alone where the navigation `topics` need it; None where neither is wanted or the result has no depth
    or no labels.
    """
    locking = config.scale_lock == 'ground'
    if not (locking or set(topics) & set(NAVIGATION_TOPICS)) or result.depth is None or result.labels is None:
        return None
    return lock_depth_as_configured(result, lock, config, lookup) if locking else lock_depth(result, lock, None)


def tasks_for(topics, config) -> tuple[str, ...]:
    """The tasks the given output topics need, in the configured order."""
    needed = set()
    for topic in topics:
        if topic == 'semantic/confidence' and not config.publish_confidence:
            continue
        needed.update(OUTPUT_TASKS[topic])
        if topic == 'points' and config.cloud_normals:
            needed.add('normals')
    if 'depth' in needed and config.scale_lock == 'ground':
        needed.add('segmentation')      # the lock finds the ground by its labels
        if config.lock_needs_tf and config.level_floor_deg:
            needed.add('normals')       # and, with the mounting known, a floor by its normals
    return tuple(t for t in config.tasks if t in needed)


def make_outputs(result, config, topics, transform: RigidTransform | None = None,
                 camera_info=None, ground: LockState | None = None,
                 grid_transform: RigidTransform | None = None) -> dict[str, Output]:
    """The payload of each of `topics` that this result can fill (a task not run leaves its topics out).
    `transform` moves the cloud into `config.target_frame` (the node looks it up in tf2; else the
    configured `target_transform` is used). `camera_info`: the input's, whose distortion depth/camera_info keeps.
    `ground`: what the scale lock did to this result (`lock_depth`); a locked one fills `ground`, one whose plane
    holds the navigation topics. `grid_transform` moves the grid into `config.grid_frame` (the node looks it up in tf2).
    """
    out = {}
    want = set(topics)
    if result.labels is not None:
        if 'semantic/labels' in want:
            out['semantic/labels'] = Output('image', result.labels)
        if 'semantic/color' in want:
            color = config.palette.encode(result.labels)
            if config.overlay_alpha > 0:
                color = (color * (1 - config.overlay_alpha) + result.image * config.overlay_alpha).astype(np.uint8)
            out['semantic/color'] = Output('image', color)
        if 'semantic/confidence' in want and config.publish_confidence:
            confidence = result.confidence.astype(np.float32)
            if config.confidence_encoding == 'mono8':
                confidence = np.round(np.clip(confidence, 0, 1) * 255).astype(np.uint8)
            out['semantic/confidence'] = Output('image', confidence)
    if result.depth is not None:
        if 'depth' in want:
            out['depth'] = Output('image', result.depth)
        if 'depth/camera_info' in want:
            out['depth/camera_info'] = Output('camera_info',
                                              depth_camera_info(result.intrinsics, camera_info, config.rectified))
    if result.normals is not None:
        if 'normals' in want:
            out['normals'] = Output('image', result.encodings['normals'])
        if 'normals/raw' in want:
            out['normals/raw'] = Output('image', result.normals)
    if 'points' in want and result.depth is not None:
        transform = transform or config.target_transform
        payload = build_cloud(result.depth, result.intrinsics, image=result.image, labels=result.labels,
                              normals=result.normals, options=config.cloud, transform=transform,
                              palette=config.palette)
        out['points'] = Output('cloud', payload, config.target_frame or None)
    if 'ground' in want and ground is not None and ground.locked:
        foot = ground.plane.foot() * ground.scale
        out['ground'] = Output('pose', GroundPose(tuple(float(v) for v in foot), ground.plane.quaternion_xyzw()))
    if want & set(NAVIGATION_TOPICS) and ground is not None and ground.plane_holds:
        out.update(_navigation_outputs(result, config, want, transform or config.target_transform, ground,
                                       grid_transform))
    return out


def _navigation_outputs(result, config, want, transform, ground: LockState, grid_transform) -> dict[str, Output]:
    """Obstacle and ground clouds (xyz and label, cloud_* stride, ranges and voxels) and the occupancy grid."""
    masks = navigation_masks(result.depth, result.labels, result.intrinsics, ground.plane, ground.scale,
                             config.ground_classes, config.obstacle_min_height, config.obstacle_max_height,
                             level_floor(ground, result.normals, config.level_floor_deg))
    options = replace(config.cloud, drop_classes=(), color_source='none', organized=False, with_normals=False)
    out = {}
    for topic, mask in (('obstacles', masks.obstacles), ('ground_points', masks.ground)):
        if topic in want:
            payload = build_cloud(np.where(mask, result.depth, np.nan), result.intrinsics, labels=result.labels,
                                  options=options, transform=transform)
            out[topic] = Output('cloud', payload, config.target_frame or None)
    if 'grid' in want:
        grid = occupancy_grid(result.depth, result.intrinsics, ground.plane, ground.scale, masks,
                              config.grid_resolution, config.grid_size_m)
        if grid_transform is not None:
            grid = grid_in_frame(grid, grid_transform)
        out['grid'] = Output('grid', grid, config.grid_frame or None)
    return out
