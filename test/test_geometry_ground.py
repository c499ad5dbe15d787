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

"""Ground-locked scale on procedural frames with exact depth: the lock recovers a known scale factor, the plane
gives the camera's pitch and roll, and it refuses (unscaled) when it sees too little ground or no single plane;
with the camera's mounting known (tf) it locks to that plane without a fit, and indoors, where no pixel is labelled
ground, to the lowest level surface of the normals.
"""
import math

import numpy as np
import pytest
from transforms3d.quaternions import mat2quat, quat2mat

from vision_banana_ros.evaluation.run import camera_of, ground_up
from vision_banana_ros.geometry import Intrinsics, RigidTransform
from vision_banana_ros.geometry.ground import (
    camera_mounting,
    fit_ground,
    GROUND_CLASSES,
    GroundLock,
    GroundPlane,
    LEVEL_FLOOR_DEG,
    level_pixels,
    LOCKED_LEVEL,
    lowest_level,
)
from vision_banana_ros.world import render_frame

W, H = 160, 120


def _frames(preset, count):
    """(frame, intrinsics) of the preset's first seeds, through a clean sensor."""
    for seed in range(count):
        frame = render_frame(seed, W, H, preset=preset, noise=False)
        k = frame.intrinsics
        yield frame, Intrinsics(k['fx'], k['fy'], k['cx'], k['cy'], W, H)


def _stands_on_the_most_seen_ground(frame) -> bool:
    """The lock's assumption: the camera stands on the ground class it sees most (a road camera sees mostly
    road; one on a sidewalk, sidewalk), and at least 10 % of the image is ground.
    """
    shares = {c: (frame.labels == c).mean() for c in GROUND_CLASSES}
    most = max(shares, key=shares.get)
    on = 0 if frame.camera['ground_z'] == 0.0 else 1
    return sum(shares.values()) >= 0.1 and most == on


@pytest.mark.parametrize('preset', ['street', 'wide'])
def test_the_lock_recovers_a_known_scale_from_true_depth(preset):
    rng = np.random.default_rng(1)
    errors = []
    for frame, intrinsics in _frames(preset, 40):
        if not _stands_on_the_most_seen_ground(frame):
            continue
        factor = float(np.exp(rng.uniform(-0.7, 0.7)))        # the network's depth is this far off
        state = GroundLock(smoothing=0.0).update(frame.depth * factor, frame.labels, intrinsics,
                                                 frame.camera['height_m'])
        assert state.locked, state.reason
        errors.append(abs(state.scale * factor - 1.0))
    errors = np.array(errors)
    print(f'{preset}: {len(errors)} frames, scale error median {np.median(errors):.4f}, max {errors.max():.4f}')
    assert len(errors) >= 15
    assert np.median(errors) < 0.005 and (errors < 0.02).mean() >= 0.9


def test_the_plane_gives_the_camera_pitch_and_roll():
    checked = 0
    for frame, intrinsics in _frames('street', 30):
        if not _stands_on_the_most_seen_ground(frame):
            continue
        state = GroundLock(smoothing=0.0).update(frame.depth, frame.labels, intrinsics, frame.camera['height_m'])
        assert state.plane.pitch_deg == pytest.approx(frame.camera['pitch_deg'], abs=1.0)
        assert state.plane.roll_deg == pytest.approx(frame.camera['roll_deg'], abs=1.0)
        checked += 1
    assert checked >= 10


def test_the_pose_of_the_plane_lies_under_the_camera_along_its_normal():
    up = np.array([0.1, -0.9, -0.3])
    up /= np.linalg.norm(up)
    plane = GroundPlane(tuple(up), 1.7, 1.0, 100)
    assert np.allclose(plane.foot(), -1.7 * up)
    qx, qy, qz, qw = plane.quaternion_xyzw()
    assert math.isclose(qx * qx + qy * qy + qz * qz + qw * qw, 1.0)
    x_axis, y_axis, z_axis = quat2mat([qw, qx, qy, qz]).T
    assert np.allclose(z_axis, up)
    # x where the camera looks, along the plane (as RViz draws the pose's arrow and the grid lies), y to its left
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
    assert np.allclose(x_axis, forward / np.linalg.norm(forward)) and np.allclose(y_axis, np.cross(up, x_axis))
    down = GroundPlane((0.0, 0.0, -1.0), 1.0, 1.0, 100)          # looking straight down: the image's top is forward
    assert np.allclose(quat2mat(np.roll(down.quaternion_xyzw(), 1))[:, 0], [0.0, -1.0, 0.0])


def test_points_on_a_plane_with_outliers_are_fitted_and_oriented_to_the_camera():
    rng = np.random.default_rng(0)
    xz = rng.uniform([-5, 2], [5, 30], (400, 2))
    ground = np.stack([xz[:, 0], np.full(400, 1.2), xz[:, 1]], 1)          # 1.2 m under a level camera
    clutter = rng.uniform([-5, -2, 2], [5, 0.5, 30], (100, 3))     # mislabelled points above the ground
    plane = fit_ground(np.concatenate([ground, clutter]), rng)
    assert plane.height == pytest.approx(1.2, rel=1e-6)
    assert np.allclose(plane.up, (0, -1, 0), atol=1e-6) and plane.inliers == pytest.approx(0.8, abs=0.03)


def test_too_little_ground_or_no_single_plane_leaves_the_depth_unscaled():
    frame, intrinsics = next(_frames('street', 1))
    sky = np.full_like(frame.labels, 10)
    state = GroundLock().update(frame.depth, sky, intrinsics, 1.5)
    assert not state.locked and state.scale == 1.0 and 'too little ground' in state.reason
    everything = np.zeros_like(frame.labels)       # buildings, cars and sky called road: no one plane
    depth = np.where(np.isfinite(frame.depth), frame.depth, 80.0)
    state = GroundLock().update(depth, everything, intrinsics, 1.5)
    assert not state.locked and state.scale == 1.0 and 'not one plane' in state.reason


def test_the_scale_is_smoothed_in_log_space():
    frame, intrinsics = next(f for f in _frames('street', 20) if _stands_on_the_most_seen_ground(f[0]))
    height = frame.camera['height_m']
    lock = GroundLock(smoothing=0.5)
    first = lock.update(frame.depth, frame.labels, intrinsics, height)
    second = lock.update(frame.depth * 4.0, frame.labels, intrinsics, height)
    # log scale halfway between 1 (the first frame's) and 1/4 (this frame's alone)
    assert first.scale == pytest.approx(1.0, abs=0.01) and second.scale == pytest.approx(0.5, rel=0.02)


def test_a_known_mounting_locks_without_a_fit_and_matches_the_world_camera():
    # street frames: the world camera's pitch and roll are to the horizontal, the ground's where it is flat (the
    # wide preset's hills and ramps tilt the ground a robot would stand on, and its tf with it)
    rng = np.random.default_rng(2)
    errors = []
    for frame, intrinsics in _frames('street', 40):
        if not _stands_on_the_most_seen_ground(frame):
            continue
        up = ground_up(frame.camera)
        fitted = GroundLock(smoothing=0.0).update(frame.depth, frame.labels, intrinsics, frame.camera['height_m'])
        assert math.degrees(math.acos(min(1.0, float(np.dot(fitted.plane.up, up))))) < 1.0   # the same plane
        factor = float(np.exp(rng.uniform(-0.7, 0.7)))
        state = GroundLock(smoothing=0.0).update(frame.depth * factor, frame.labels, intrinsics,
                                                 frame.camera['height_m'], up)
        assert state.locked, state.reason
        assert state.plane.height == pytest.approx(frame.camera['height_m'] * factor, rel=0.02)
        errors.append(abs(state.scale * factor - 1.0))
    errors = np.array(errors)
    assert len(errors) >= 15 and np.median(errors) < 0.005 and (errors < 0.02).mean() >= 0.9


def test_a_known_mounting_holds_the_scale_where_the_predicted_ground_is_tilted():
    # A network's ground often bends away (depth too short near, too long far): a fitted plane tilts with it and
    # its height is off; with the mounting known, the median ray still gives the scale.
    frame, intrinsics = next(f for f in _frames('street', 20) if _stands_on_the_most_seen_ground(f[0]))
    rows = np.arange(H, dtype=np.float32)[:, None]
    bent = frame.depth * 1.5 * (1.0 + 0.6 * (0.5 - rows / H))     # 1.5x too far on average, far rows more
    height = frame.camera['height_m']
    fitted = GroundLock(smoothing=0.0).update(bent, frame.labels, intrinsics, height)
    known = GroundLock(smoothing=0.0).update(bent, frame.labels, intrinsics, height, ground_up(frame.camera))
    ground = np.isin(frame.labels, GROUND_CLASSES) & np.isfinite(frame.depth)

    def median_error(state):    # of the ground's depth, as locked
        return abs(float(np.median(bent[ground] * state.scale / frame.depth[ground])) - 1.0)
    print(f'ground depth off by {median_error(known):.3f} (known mounting), {median_error(fitted):.3f} (fitted)')
    assert known.locked and median_error(known) < 0.03 and median_error(fitted) > 0.1
    # the navigation outputs keep the plane fitted to the predicted ground: its points lie on it
    assert known.plane == fitted.plane


def test_a_known_mounting_refuses_ground_that_is_not_on_its_plane():
    frame, intrinsics = next(_frames('street', 1))
    everything = np.zeros_like(frame.labels)       # buildings, cars and sky called road
    depth = np.where(np.isfinite(frame.depth), frame.depth, 80.0)
    state = GroundLock().update(depth, everything, intrinsics, 1.5, ground_up(frame.camera))
    assert not state.locked and state.scale == 1.0 and 'not on the known plane' in state.reason


def test_indoors_a_known_mounting_locks_to_the_floor_found_by_its_normals():
    rng = np.random.default_rng(2)
    for seed in range(6):
        frame = render_frame(seed, W, H, preset='indoor', noise=False, pitch_deg=-30.0, height_m=1.0)
        assert not np.isin(frame.labels, GROUND_CLASSES).any()        # floors carry no Cityscapes class
        factor = float(np.exp(rng.uniform(-0.7, 0.7)))
        args = frame.depth * factor, frame.labels, camera_of(frame), frame.camera['height_m'], ground_up(frame.camera)
        state = GroundLock(smoothing=0.0).update(*args, frame.normals)
        assert state.locked and state.reason == LOCKED_LEVEL and state.scale * factor == pytest.approx(1.0, abs=0.02)
        # labelled ground only: without the normals, or with the level floor turned off
        for lock, normals in ((GroundLock(), None), (GroundLock(level_floor_deg=0.0), frame.normals)):
            state = lock.update(*args, normals)
            assert not state.locked and state.scale == 1.0 and 'too little ground' in state.reason


def test_the_floor_is_the_lowest_level_surface_not_a_table_top_or_a_wall():
    up = np.array([0.0, -1.0, 0.0])                 # a level camera: up is -y in the optical frame
    rng = np.random.default_rng(3)
    floor = np.stack([rng.uniform(-2, 2, 300), np.full(300, 1.5), rng.uniform(1, 5, 300)], 1)
    table = np.stack([rng.uniform(-1, 1, 200), np.full(200, 0.75), rng.uniform(1, 2, 200)], 1)
    wall = np.stack([rng.uniform(-2, 2, 200), rng.uniform(-1, 1.5, 200), np.full(200, 5.0)], 1)
    points = np.concatenate([floor, table, wall])
    normals = np.concatenate([np.tile(up, (500, 1)), np.tile([0.0, 0.0, -1.0], (200, 1))])
    normals[:300] += rng.normal(0, 0.1, (300, 3))   # a predicted floor is level only roughly
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)

    def lowest(points, normals):
        return lowest_level(-(points @ up), level_pixels(normals, up, LEVEL_FLOOR_DEG))

    assert (lowest(points, normals) == (np.arange(700) < 300)).all()
    # the same surfaces above the camera (a ceiling, shelves' undersides) or facing down are no floor
    assert not lowest(-points, normals).any() and not lowest(points, -normals).any()
    # a few stray points far under the floor (a wrong depth) do not set its height: the floor stays in
    stray = np.stack([rng.uniform(-2, 2, 15), np.full(15, 4.5), rng.uniform(1, 5, 15)], 1)
    assert lowest(np.concatenate([points, stray]), np.concatenate([normals, np.tile(up, (15, 1))]))[:300].all()


def test_a_known_mounting_refuses_where_neither_labels_nor_normals_show_a_floor():
    frame = render_frame(0, W, H, preset='indoor', noise=False, pitch_deg=60.0, height_m=1.0)
    state = GroundLock().update(frame.depth, frame.labels, camera_of(frame), 1.0, ground_up(frame.camera),
                                frame.normals)
    assert not state.locked and state.scale == 1.0
    assert 'too little ground' in state.reason and 'too little level floor' in state.reason


def test_the_mounting_comes_from_the_transform_into_the_ground_frame():
    pitch = math.radians(20.0)          # looking 20 deg down, 1.2 m above base_footprint (x forward, z up)
    z = np.array([math.cos(pitch), 0.0, -math.sin(pitch)])       # the optical axes in base_footprint
    x = np.array([0.0, -1.0, 0.0])
    rotation = np.stack([x, np.cross(z, x), z], axis=1)
    w, qx, qy, qz = mat2quat(rotation)
    height, up = camera_mounting(RigidTransform.from_translation_quaternion((0.3, 0.0, 1.2), (qx, qy, qz, w)))
    assert height == pytest.approx(1.2)
    assert up == pytest.approx((0.0, -math.cos(pitch), -math.sin(pitch)))
    assert GroundPlane(up, height, 1.0, 1).pitch_deg == pytest.approx(-20.0)


def _depth_of_plane(intrinsics: Intrinsics, up, height: float) -> np.ndarray:
    """Depth of the plane `up` . p + height = 0 (`up` toward the camera) seen through `intrinsics`, NaN above it."""
    from vision_banana_ros.geometry.backprojection import ray_grids
    rx, ry = ray_grids(intrinsics, np.ones((intrinsics.height, intrinsics.width)))
    z = -height / (up[0] * rx + up[1] * ry + up[2])
    return np.where(z > 0, z, np.nan).astype(np.float32)


def test_a_wall_labelled_ground_is_refused_and_a_fit_far_from_the_mounting_is_not_stood_on():
    """A bus side read as road fits a plane as well as a road does: without the mounting, a plane standing to the
    side of (or above) the camera is refused, not locked to with the camera 2 m 'above' the wall; with the mounting,
    a fitted plane far from it gives way to the known one for the navigation outputs.
    """
    intrinsics = Intrinsics.from_fov(160, 120, 70.0)
    labels = np.full((120, 160), 2, np.uint8)                     # building, and road on the right half
    labels[:, 80:] = GROUND_CLASSES[0]
    wall = _depth_of_plane(intrinsics, (-1.0, 0.0, 0.0), 2.0)     # a wall 2 m to the right
    state = GroundLock(smoothing=0.0).update(wall, labels, intrinsics, 1.2)
    assert not state.locked and not state.plane_holds and 'stands to the side of or above' in state.reason
    pitch = math.radians(-20.0)
    up = (0.0, -math.cos(pitch), math.sin(pitch))
    labels[:] = 2
    labels[70:] = GROUND_CLASSES[0]
    floor = GroundLock(smoothing=0.0).update(_depth_of_plane(intrinsics, up, 1.2), labels, intrinsics, 1.2)
    assert floor.locked and floor.scale == pytest.approx(1.0, rel=1e-3)           # a pitched camera's floor locks
    bent_pitch = math.radians(-50.0)                                              # predicted ground bent by 30 deg
    bent = _depth_of_plane(intrinsics, (0.0, -math.cos(bent_pitch), math.sin(bent_pitch)), 1.2)
    state = GroundLock(smoothing=0.0).update(bent, labels, intrinsics, 1.2, up)
    assert state.locked and np.allclose(state.plane.up, up)
