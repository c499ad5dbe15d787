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

"""Obstacles, free ground and the occupancy grid on an analytic scene: a level camera 1.5 m above flat ground
facing a 3 m wall 8 m ahead, which spans a band of image columns.
"""
import numpy as np
import pytest

from vision_banana_ros.geometry import Intrinsics
from vision_banana_ros.geometry.ground import GroundPlane
from vision_banana_ros.geometry.navigation import FREE, navigation_masks, occupancy_grid, OCCUPIED, UNKNOWN

W, H, F = 320, 240, 200.0
INTRINSICS = Intrinsics(F, F, (W - 1) / 2, (H - 1) / 2, W, H)
HEIGHT, WALL_Z, WALL_TOP, BAND = 1.5, 8.0, 3.0, (100, 220)
ROAD, BUILDING, SKY = 0, 2, 10


def _scene():
    v = np.arange(H, dtype=np.float64)[:, None] - INTRINSICS.cy
    depth = np.where(v > 0, F * HEIGHT / np.maximum(v, 1e-9), np.inf) * np.ones((1, W))
    labels = np.where(v > 0, ROAD, SKY).astype(np.uint8) * np.ones((1, W), np.uint8)
    top = INTRINSICS.cy + F * (HEIGHT - WALL_TOP) / WALL_Z        # the wall's top edge, in rows
    wall = (np.arange(H)[:, None] >= top) & (depth > WALL_Z)
    wall &= (np.arange(W)[None] >= BAND[0]) & (np.arange(W)[None] < BAND[1])
    depth[wall], labels[wall] = WALL_Z, BUILDING
    return depth.astype(np.float32), labels


PLANE = GroundPlane((0.0, -1.0, 0.0), HEIGHT, 1.0, 1000)


def test_obstacles_stand_between_the_heights_and_ground_within_the_lower_one():
    depth, labels = _scene()
    masks = navigation_masks(depth, labels, INTRINSICS, PLANE, 1.0, (0, 1, 9), 0.1, 2.0)
    assert (labels[masks.obstacles] == BUILDING).all() and (labels[masks.ground] == ROAD).all()
    heights = masks.heights[masks.obstacles]
    assert heights.min() >= 0.1 and heights.max() <= 2.0 and heights.max() > 1.9
    assert masks.ground.sum() == ((labels == ROAD) & np.isfinite(depth)).sum()     # all of the flat road
    # a plane fitted on depth half as large, then scaled by 2, gives the same heights
    halved = GroundPlane(PLANE.up, HEIGHT / 2, 1.0, 1000)
    again = navigation_masks(depth, labels, INTRINSICS, halved, 2.0, (0, 1, 9), 0.1, 2.0)
    assert np.array_equal(again.obstacles, masks.obstacles)


def test_a_floor_found_by_its_normals_is_ground_whatever_its_class_and_never_an_obstacle():
    depth, labels = _scene()
    floor = (labels == ROAD) & np.isfinite(depth)
    table = floor & (np.arange(W)[None] < 60) & (np.arange(H)[:, None] > 200)     # a table top 0.75 m up
    depth[table] = (F * (HEIGHT - 0.75) / (np.arange(H)[:, None] - INTRINSICS.cy) * np.ones((1, W)))[table]
    floor &= ~table
    labels[floor | table] = BUILDING                    # indoors: the floor has no class, the model says anything
    level = floor | table                               # the pixels whose normals point up
    lifted = GroundPlane(PLANE.up, HEIGHT + 0.15, 1.0, 1000)   # a depth that puts the floor 15 cm up
    for plane, ground in ((PLANE, floor), (lifted, np.zeros_like(floor))):
        masks = navigation_masks(depth, labels, INTRINSICS, plane, 1.0, (0, 1, 9), 0.1, 2.0, level)
        assert np.array_equal(masks.ground, ground) and not (masks.obstacles & floor).any()
        # the table top goes with the floor (level, no obstacle); the wall stands
        assert not masks.obstacles[table].any() and (masks.obstacles & ~level).any()
    assert (navigation_masks(depth, labels, INTRINSICS, lifted, 1.0, (0, 1, 9), 0.1, 2.0).obstacles & floor).any()


def test_the_grid_marks_the_wall_occupied_the_road_before_it_free_and_behind_it_unknown():
    depth, labels = _scene()
    masks = navigation_masks(depth, labels, INTRINSICS, PLANE, 1.0, (0, 1, 9), 0.1, 2.0)
    grid = occupancy_grid(depth, INTRINSICS, PLANE, 1.0, masks, resolution=0.1, size_m=20.0)
    cells = grid.cells
    assert cells.shape == (200, 200)
    # the wall spans x = (u - cx) * 8 / f; the grid's rows run left (-x), centred on the camera
    x0, x1 = ((np.array(BAND) - INTRINSICS.cx) * WALL_Z / F)
    rows = slice(int(np.ceil((10 - x1) / 0.1)) + 1, int((10 - x0) / 0.1) - 1)
    assert (cells[rows, 80] == OCCUPIED).all()                      # 8.0-8.1 m ahead
    assert (cells[100, 30:79] == FREE).all()                        # the road from 3 m up to the wall
    assert (cells[rows, 82:] == UNKNOWN).all()                      # hidden behind it
    assert grid.origin == pytest.approx((10.0, HEIGHT, 0.0))        # the corner 10 m to the right; rows run left
    x, y, z, w = grid.orientation_xyzw
    rotation = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                         [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                         [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    assert np.allclose(rotation, [[0, -1, 0], [0, 0, -1], [1, 0, 0]], atol=1e-9)   # x forward, y left, z up


def test_the_grid_moved_into_another_frame_keeps_its_cells_and_composes_its_pose():
    from vision_banana_ros.geometry.navigation import grid_in_frame
    from vision_banana_ros.geometry.transform import RigidTransform
    depth, labels = _scene()
    masks = navigation_masks(depth, labels, INTRINSICS, PLANE, 1.0, (0, 1, 9), 0.1, 2.0)
    grid = occupancy_grid(depth, INTRINSICS, PLANE, 1.0, masks, resolution=0.1, size_m=10.0)
    # optical frame -> a base frame 1.5 m below it (x forward, y left, z up), as a level camera's mount gives
    to_base = RigidTransform(np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]), np.array([0, 0, 1.5]))
    moved = grid_in_frame(grid, to_base)
    assert moved.cells is grid.cells and moved.origin == pytest.approx((0.0, -5.0, 0.0))  # on the ground, 5 m right
    assert np.allclose(moved.orientation_xyzw, (0, 0, 0, 1), atol=1e-9) or np.allclose(
        moved.orientation_xyzw, (0, 0, 0, -1), atol=1e-9)                                # axes as the base's


def test_free_ground_is_walked_only_where_it_crosses_the_grid():
    """Far away one row spans metres: the stretches between rows are walked inside the grid only (a level 720p
    camera's ground ran to millions of points), and mark the cells a fine walk of the whole segments marks.
    """
    from vision_banana_ros.geometry.navigation import NavigationMasks
    depth, labels = _scene()
    masks = navigation_masks(depth, labels, INTRINSICS, PLANE, 1.0, (0, 1, 9), 0.1, 2.0)
    ground = masks.ground & (np.abs(np.arange(W) - 160) < 12)[None]     # a band of columns, for the reference
    masks = NavigationMasks(np.zeros_like(ground), ground, masks.heights)
    cells = occupancy_grid(depth, INTRINSICS, PLANE, 1.0, masks, resolution=0.1, size_m=4.0).cells
    # the reference: every segment between vertically adjacent ground pixels walked in steps of 1/500 of it
    v, u = np.nonzero(ground[1:] & ground[:-1])
    near, far = (np.stack([(u - INTRINSICS.cx) * z / F, z], 1)
                 for z in (depth[1:][v, u].astype(np.float64), depth[:-1][v, u].astype(np.float64)))
    walked = (near + (far - near) * np.linspace(0, 1, 501)[:, None, None]).reshape(-1, 2)
    col, row = np.floor(walked[:, 1] / 0.1).astype(int), np.floor((2.0 - walked[:, 0]) / 0.1).astype(int)
    inside = (col >= 0) & (col < 40) & (row >= 0) & (row < 40)
    reference = np.zeros((40, 40), bool)
    reference[row[inside], col[inside]] = True
    free = cells == FREE
    # every free cell is one a segment crosses; steps of at most a cell miss at most a corner a segment grazes
    assert reference.sum() > 50 and not (free & ~reference).any() and free.sum() >= 0.97 * reference.sum()
