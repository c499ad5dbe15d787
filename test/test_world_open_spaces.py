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

"""Open spaces (parking lots, plazas, rural roads): labelled as Cityscapes labels them, the camera's spot kept free,
ground that is not flat where the kind says so, and the wide preset drawing them.
"""
from dataclasses import replace

import numpy as np
import pytest

from vision_banana_ros.world import render_frame, shapes
from vision_banana_ros.world.mesh import MeshBuilder
from vision_banana_ros.world.open_spaces import generate_open_space, KINDS, OpenSpace
from vision_banana_ros.world.presets import PRESETS
from vision_banana_ros.world.render import render
from vision_banana_ros.world.shapes import CAR, IGNORE, POLE, ROAD, SIDEWALK, TERRAIN

LEVEL = {'fov_deg': 90.0, 'height_m': 1.5, 'pitch_deg': -10.0, 'roll_deg': 0.0, 'yaw_deg': 0.0}
ALLOWED = {getattr(shapes, name) for name in ('ROAD', 'SIDEWALK', 'BUILDING', 'WALL', 'FENCE', 'POLE', 'TRAFFIC_SIGN',
                                              'VEGETATION', 'TERRAIN', 'SKY', 'PERSON', 'CAR', 'TRUCK', 'IGNORE')}


def _frame(kind, seed, **camera):
    preset = replace(PRESETS['wide'], open_kinds=(kind,), textures=(), fog=0.0)
    scene, cam = generate_open_space(np.random.default_rng(seed), 96, 72, preset, {**LEVEL, **camera})
    return render(scene, cam), scene, cam


def test_a_height_field_is_two_triangles_per_cell_with_their_labels():
    mb = MeshBuilder()
    xs, ys = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0])
    mb.add_grid(xs, ys, np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 2.0]]), np.array([[4, 5]]), np.array([[ROAD, TERRAIN]]))
    verts, tris, mats, labels = mb.build()
    assert verts.shape == (6, 3) and tris.shape == (4, 3)
    assert mats.tolist() == [4, 4, 5, 5] and labels.tolist() == [ROAD, ROAD, TERRAIN, TERRAIN]
    assert verts[5].tolist() == [3.0, 2.0, 2.0]


@pytest.mark.parametrize('kind', KINDS)
def test_every_kind_is_labelled_as_cityscapes_labels_it_and_seen_from_a_free_spot(kind):
    labels = set()
    for seed in range(3):
        frame, scene, cam = _frame(kind, seed)
        labels |= set(np.unique(frame.labels).tolist())
        # the ground under the camera: nothing stands within a metre in front of it
        assert np.nanmin(np.where(np.isfinite(frame.depth), frame.depth, np.nan)) > 1.0
        assert cam.ground_z == 0.0
    assert labels <= ALLOWED
    expected = {'parking': {ROAD, IGNORE, CAR, POLE}, 'plaza': {SIDEWALK}, 'rural': {ROAD, TERRAIN, POLE}}[kind]
    assert expected <= labels, (kind, labels)


def test_rural_ground_is_not_flat_and_the_road_follows_its_grade():
    for seed in range(40):
        space = OpenSpace(np.random.default_rng(seed), 'rural')
        if abs(space.grade) > 0.04 and max(abs(a) for a, *_ in space.hills) > 3:
            break
    else:
        raise AssertionError('no steep hilly rural road in 40 seeds')
    assert space.height(0.0, 0.0) == pytest.approx(0.0)
    assert space.height(0.0, 100.0) == pytest.approx(space.grade * 100.0)
    assert space.height(space.half_width, 50.0) == pytest.approx(space.grade * 50.0)     # the road is level across
    far = space.height(np.full(50, 60.0), np.linspace(0, 200, 50)) - space.grade * np.linspace(0, 200, 50)
    assert np.ptp(far) > 1.0                                                             # hills beyond the shoulder


def test_rural_terrain_normals_are_not_all_vertical():
    tilts = []
    for seed in range(6):
        frame, _, cam = _frame('rural', seed, pitch_deg=0.0)
        terrain = frame.labels == TERRAIN
        if terrain.sum() < 50:
            continue
        # world up in the optical frame of a level camera is -y: the terrain's normals lean away from it
        tilts.append(np.degrees(np.arccos(np.clip(-frame.normals[terrain][:, 1], -1, 1))))
    assert tilts and max(np.percentile(t, 90) for t in tilts) > 10.0


def test_plaza_steps_and_a_ramp_rise_to_the_terrace():
    found = set()
    for seed in range(20):
        space = OpenSpace(np.random.default_rng(seed), 'plaza')
        space.build(0.0)
        verts, tris, _, labels = space.mb.build()
        paving = tris[labels == SIDEWALK]
        corners = verts[paving]
        normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
        tilt = np.degrees(np.arccos(np.abs(normals[:, 2]) / np.linalg.norm(normals, axis=1)))
        tops = np.unique(np.round(corners[:, :, 2][tilt < 1e-6], 3))
        if len(tops[(tops > 0.05) & (tops < 1.25)]) >= 2:       # steps rising to a terrace
            found.add('steps')
        if ((tilt > 3.0) & (tilt < 7.0)).any():                  # a ramp of 6-12 %
            found.add('ramp')
    assert found == {'steps', 'ramp'}


def test_the_wide_preset_draws_open_spaces_and_the_holdout_none():
    assert PRESETS['wide'].open_spaces > 0 and not PRESETS['holdout'].open_spaces
    grounds = set()
    for seed in range(30):
        frame = render_frame(seed, 48, 36, preset='wide')
        grounds |= set(np.unique(frame.labels).tolist())
    assert IGNORE in grounds and ROAD in grounds


def test_open_spaces_are_deterministic_per_seed():
    a, _, _ = _frame('parking', 3)
    b, _, _ = _frame('parking', 3)
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.labels, b.labels)
    with pytest.raises(ValueError, match='unknown open space kind'):
        OpenSpace(np.random.default_rng(0), 'beach')
