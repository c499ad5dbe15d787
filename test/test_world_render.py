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

"""The procedural world's renderer: exact ground truth, determinism, options."""

import numpy as np
import pytest

from vision_banana_ros.world import (
    ABSENT_CLASSES,
    Camera,
    Lighting,
    render,
    render_frame,
    Scene,
    Sensor,
    WORLD_CLASSES,
)
from vision_banana_ros.world.mesh import MeshBuilder
from vision_banana_ros.world.shapes import BUILDING, ROAD, SKY
from vision_banana_ros.world.textures import albedo, Materials, PRINT, PRINT_STYLES, TILES


def _wall_scene(distance: float) -> Scene:
    """Ground at z = 0 and a wall whose near face is the plane y = distance."""
    mb, mats = MeshBuilder(), Materials()
    grey = mats.flat((0.5, 0.5, 0.5))
    mb.add_boxes([[0, 50, -0.5]], [[200, 200, 1.0]], grey, ROAD)
    mb.add_boxes([[0, distance + 0.25, 10]], [[60, 0.5, 20]], grey, BUILDING)
    return Scene.from_builder(mb, mats, Lighting())


def test_same_seed_same_arrays():
    a, b = render_frame(11, 96, 72), render_frame(11, 96, 72)
    for name in ('rgb', 'labels', 'depth', 'normals'):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.camera == b.camera and a.intrinsics == b.intrinsics
    assert not np.array_equal(a.labels, render_frame(12, 96, 72).labels)


@pytest.mark.parametrize('seed', [0, 3])
def test_road_depth_is_the_ground_plane(seed):
    h = 1.4
    f = render_frame(seed, 160, 120, fov_deg=90, height_m=h, pitch_deg=0, roll_deg=0, yaw_deg=0, x_m=0.0,
                     curve=0.0, traffic=False, noise=False)
    road = f.labels == ROAD
    assert road.mean() > 0.15
    v = np.broadcast_to(np.arange(120)[:, None], road.shape)[road]
    expected = f.intrinsics['fy'] * h / (v - f.intrinsics['cy'])
    np.testing.assert_allclose(f.depth[road], expected, rtol=1e-4)
    # The road is flat and level, so its normal in the optical frame is straight up: (0, -1, 0).
    np.testing.assert_allclose(f.normals[road], np.broadcast_to([0, -1, 0], (road.sum(), 3)), atol=1e-5)


@pytest.mark.parametrize('pitch,roll,yaw', [(0.0, 0.0, 0.0), (8.0, -4.0, 12.0)])
def test_wall_facing_the_camera(pitch, roll, yaw):
    cam = Camera.create(120, 90, fov_deg=60, height_m=1.5, pitch_deg=pitch, roll_deg=roll, yaw_deg=yaw)
    f = render(_wall_scene(10.0), cam)
    wall = f.labels == BUILDING
    assert wall.mean() > 0.3
    expected = cam.rotation.T @ np.array([0.0, -1.0, 0.0])      # the wall's world normal, in the optical frame
    np.testing.assert_allclose(f.normals[wall], np.broadcast_to(expected, (wall.sum(), 3)), atol=1e-5)
    if pitch == roll == yaw == 0:
        np.testing.assert_allclose(f.normals[wall], np.broadcast_to([0, 0, -1], (wall.sum(), 3)), atol=1e-6)
        np.testing.assert_allclose(f.depth[wall], 10.0, rtol=1e-5)   # a fronto-parallel plane: constant z
    # Depth is the optical z of the hit: x, y, z back-projected from it lie on the plane y = 10.
    v, u = np.nonzero(wall)
    z = f.depth[wall]
    rays = np.stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z], 1)
    world = rays @ cam.rotation.T + cam.position
    np.testing.assert_allclose(world[:, 1], 10.0, atol=2e-4)


def test_indoor_lamps_light_what_is_near_and_leave_shadows_and_corners_darker():
    # A floor under one lamp 2.5 m up, seen from above; the same floor with a 0.5 m cube 1 m beside the lamp.
    def floor(cube: bool, lamps: bool):
        mb, mats = MeshBuilder(), Materials()
        grey = mats.flat((0.5, 0.5, 0.5))
        mb.add_boxes([[0, 0, -0.5]], [[40, 40, 1.0]], grey, ROAD)
        if cube:
            mb.add_boxes([[1.0, 0, 0.25]], [[0.5, 0.5, 0.5]], grey, BUILDING)
        light = Lighting((0, 0, 1), (0, 0, 0), (0.3, 0.3, 0.3), (0, 0, 0), (0, 0, 0), 0.0, (0, 0, 0), 1e4,
                         lamps=((0.0, 0.0, 2.5),) if lamps else (), lamp_rgb=(2.0, 2.0, 2.0))
        cam = Camera.create(161, 161, fov_deg=120, height_m=2.0, pitch_deg=-89.0, roll_deg=0.0, yaw_deg=0.0, x_m=2.0)
        frame = render(Scene.from_builder(mb, mats, light), cam, Sensor(key=0.18))
        world = _world_points(frame, cam)

        def brightness(x, y, radius=0.06):
            near = (np.hypot(world[..., 0] - x, world[..., 1] - y) < radius) & (world[..., 2] < 0.01)
            assert near.sum() >= 3, (x, y)
            return frame.rgb[near].mean()
        return brightness

    open_floor, with_cube = floor(cube=False, lamps=True), floor(cube=True, lamps=True)
    assert open_floor(0.0, -0.5) > open_floor(0.0, -2.5) * 1.15         # inverse-square falloff (after gamma)
    assert with_cube(1.4, 0.0) < open_floor(1.4, 0.0) * 0.8            # the cube's shadow, away from the lamp
    assert 0.8 < with_cube(1.0, 0.4) / open_floor(1.0, 0.4) < 0.98     # beside it, lit but less bounce light
    assert with_cube(0.0, 1.4) == pytest.approx(open_floor(0.0, 1.4), abs=3)   # and far from it nothing changes
    outdoors = floor(cube=False, lamps=False)                          # without lamps the floor is evenly lit
    assert abs(outdoors(0.0, -0.5) - outdoors(0.0, -2.5)) < 3


def test_printed_sheets_show_tags_checkers_and_posters_and_fade_far_away():
    # Three 4 x 3-cell sheets of 10 cm cells on a wall facing -y (texture u along x, v along z), origin at 0.
    mats = Materials()
    ink, paper, accent = (0.05, 0.05, 0.05), (0.9, 0.9, 0.9), (0.9, 0.1, 0.1)
    for style in PRINT_STYLES:
        mats.add(PRINT, ink, paper, accent, (0.1, 4, 3, PRINT_STYLES.index(style)))
    table = mats.arrays()
    linear = {name: np.float32(c) ** 2.2 for name, c in (('ink', ink), ('paper', paper), ('accent', accent))}

    def colours(style, u, v, footprint=1e-4):
        u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
        p = np.stack([u.ravel(), np.zeros(u.size), v.ravel()], -1)
        n = np.tile([0.0, -1.0, 0.0], (u.size, 1))
        m = np.full(u.size, PRINT_STYLES.index(style))
        return albedo(table, m, p, n, np.full(u.size, footprint, np.float32))[0]

    def is_(name, values):
        return np.isclose(values, linear[name], rtol=1e-4).all(-1)

    centres = (np.arange(4) + 0.5) * 0.1
    checker = is_('ink', colours('checker', centres[:, None], centres[None, :3])).reshape(4, 3)
    assert checker[::2, ::2].all() and checker[1::2, 1::2].all()
    assert not checker[1::2, ::2].any() and not checker[::2, 1::2].any()
    # Each tag: a white margin (the outer tenth of its cell), a black ring inside it, random bits within.
    tenth = (np.arange(10) + 0.5) * 0.01
    tag = colours('tags', 0.1 + tenth[:, None], 0.1 + tenth[None, :]).reshape(10, 10, 3)
    assert is_('paper', tag[0]).all() and is_('paper', tag[:, 9]).all()
    assert is_('ink', tag[1, 1:9]).all() and is_('ink', tag[1:9, 8]).all()
    bits = is_('ink', tag[2:8, 2:8])
    assert 6 < bits.sum() < 30 and (bits | is_('paper', tag[2:8, 2:8])).all()
    poster = colours('poster', centres[:, None], centres[None, :3])
    shares = [is_(name, poster).sum() for name in ('ink', 'paper', 'accent')]
    assert sum(shares) == 12 and min(shares) >= 1
    assert is_('paper', colours('checker', [-0.05, 0.45], [0.15, 0.15])).all()        # paper around the sheet
    # A pixel of 2 cm: the bits fade, the tag's inside turns grey (its ring and half its bits), its margin stays.
    grey = colours('tags', 0.1 + tenth[[0, 5]], 0.15, footprint=0.02)
    assert is_('paper', grey[:1]).all()
    assert np.allclose(grey[1], linear['paper'] + (46 / 64) * (linear['ink'] - linear['paper']), rtol=1e-4)
    for style in ('checker', 'tags'):                                                    # a pixel covers cells
        far = colours(style, centres, 0.15, footprint=0.5)
        share = 0.5 if style == 'checker' else 0.46
        assert np.allclose(far, linear['paper'] + share * (linear['ink'] - linear['paper']), rtol=1e-4)


def test_tiles_whose_joints_are_wider_than_their_period_are_all_joint():
    # Randomised appearance can draw a 5.3 cm row period with 5.7 cm joints; seen from afar, the joints' mean
    # coverage once went above 1 and made the colour negative, and a whole frame black.
    mats = Materials()
    mats.add(TILES, (0.6, 0.5, 0.4), (0.2, 0.2, 0.2), (0.6, 0.5, 0.4), (1.31, 0.053, 0.0, 0.057, 0.08, 0.0))
    n = 200
    p = np.stack([np.linspace(0, 3, n), np.zeros(n), np.linspace(0, 2, n)], -1)
    for footprint in (0.001, 0.05, 0.3):
        colour = albedo(mats.arrays(), np.zeros(n, int), p, np.tile([0.0, -1.0, 0.0], (n, 1)),
                        np.full(n, footprint, np.float32))[0]
        assert np.allclose(colour, np.float32(0.2) ** 2.2, rtol=1e-4), footprint


def _world_points(frame, cam) -> np.ndarray:
    v, u = np.mgrid[:frame.depth.shape[0], :frame.depth.shape[1]]
    z = frame.depth
    rays = np.stack([(u - cam.cx) / cam.fx * z, (v - cam.cy) / cam.fy * z, z], -1)
    return rays @ cam.rotation.T + cam.position


def test_sky_is_label_10_with_invalid_depth_and_zero_normals():
    cam = Camera.create(80, 60, fov_deg=70, height_m=1.5, pitch_deg=5)
    f = render(_wall_scene(120.0), cam)          # the wall stands beyond nothing: its top edge leaves sky above
    sky = f.labels == SKY
    assert sky[0].all() and sky.mean() > 0.2
    assert not np.isfinite(f.depth[sky]).any()
    assert (f.normals[sky] == 0).all()
    assert np.isfinite(f.depth[~sky]).all() and (f.depth[~sky] > 0).all()
    np.testing.assert_allclose(np.linalg.norm(f.normals[~sky], axis=-1), 1.0, atol=1e-5)


def test_beyond_the_far_clip_is_sky():
    cam = Camera.create(80, 60, fov_deg=70, height_m=1.5)
    f = render(_wall_scene(400.0), cam)           # the wall lies beyond 150 m
    assert not (f.labels == BUILDING).any()


def test_random_frames_keep_the_conventions():
    seen = set()
    for seed in range(4):
        f = render_frame(seed, 80, 60)
        assert f.rgb.shape == (60, 80, 3) and f.rgb.dtype == np.uint8
        assert f.labels.dtype == np.uint8 and f.depth.dtype == np.float32 and f.normals.dtype == np.float32
        seen |= set(np.unique(f.labels).tolist())
        valid = np.isfinite(f.depth)
        np.testing.assert_array_equal(valid, f.labels != SKY)
        assert (f.depth[valid] > 0).all()
        # Normals face the camera: they point against the viewing ray of their pixel.
        v, u = np.nonzero(valid)
        ray = np.stack([(u - f.intrinsics['cx']) / f.intrinsics['fx'], (v - f.intrinsics['cy']) / f.intrinsics['fy'],
                        np.ones(len(u))], 1)
        assert ((f.normals[valid] * ray).sum(1) < 0).all()
        assert 40 <= f.camera['fov_deg'] <= 110 and 1.0 <= f.camera['height_m'] <= 2.5
    assert seen <= set(WORLD_CLASSES) and not seen & set(ABSENT_CLASSES)
    assert {ROAD, BUILDING, SKY} <= seen


def test_sensor_noise_leaves_ground_truth_alone():
    noisy, clean = render_frame(5, 96, 72), render_frame(5, 96, 72, noise=False)
    for name in ('labels', 'depth', 'normals'):
        np.testing.assert_array_equal(getattr(noisy, name), getattr(clean, name), err_msg=name)
    assert np.abs(noisy.rgb.astype(int) - clean.rgb).mean() > 1.0


def test_an_override_changes_only_itself():
    base, wide = render_frame(8, 64, 48), render_frame(8, 64, 48, fov_deg=100.0)
    assert wide.camera['fov_deg'] == 100.0 != base.camera['fov_deg']
    for key in ('height_m', 'pitch_deg', 'roll_deg', 'yaw_deg', 'x_m'):
        assert wide.camera[key] == base.camera[key], key


def test_unknown_option_is_an_error():
    with pytest.raises(ValueError, match='fov'):
        render_frame(0, 32, 24, fov=60)
    with pytest.raises(ValueError, match='seed'):
        render_frame(-1, 32, 24)
