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

"""What each output topic needs and carries, without ROS: the node and bag processing share these."""
from types import SimpleNamespace

import numpy as np
import pytest

from vision_banana_ros.config import NO_TF2, read_config
from vision_banana_ros.engine.frames import FrameResult
from vision_banana_ros.evaluation.run import camera_of, ground_up
from vision_banana_ros.geometry import Intrinsics, RigidTransform
from vision_banana_ros.geometry.backprojection import ray_grids
from vision_banana_ros.geometry.ground import LEVEL_FLOOR_DEG, LOCKED_LEVEL
from vision_banana_ros.geometry.navigation import FREE
from vision_banana_ros.outputs import configured_ground_lock, lock_depth_as_configured, make_outputs, tasks_for
from vision_banana_ros.parameters import BY_NAME
from vision_banana_ros.world import render_frame


def _config(no_tf=NO_TF2, **values):
    return read_config(lambda name: values.get(name, BY_NAME[name].default), no_tf=no_tf)


def test_tasks_follow_the_topics_somebody_listens_to():
    config = _config()
    assert tasks_for([], config) == ()
    assert tasks_for(['depth'], config) == ('depth',)
    assert tasks_for(['semantic/confidence'], config) == ()                    # publish_confidence is off
    assert tasks_for(['semantic/confidence'], _config(publish_confidence=True)) == ('segmentation',)
    assert tasks_for(['points'], config) == ('segmentation', 'depth')           # the cloud carries labels
    assert tasks_for(['points'], _config(cloud_normals=True)) == ('segmentation', 'depth', 'normals')
    assert tasks_for(['normals', 'semantic/labels'], _config(tasks=['normals', 'segmentation'])) == (
        'normals', 'segmentation')                                              # in the configured order
    # the ground lock reads the labels, and with the mounting from tf (camera_height_m 0) a floor by its normals
    assert tasks_for(['depth'], _config(scale_lock='ground', camera_height_m=1.2)) == ('segmentation', 'depth')
    assert tasks_for(['depth'], _config(None, scale_lock='ground')) == ('segmentation', 'depth', 'normals')
    assert tasks_for(['depth'], _config(None, scale_lock='ground', level_floor_deg=0.0)) == ('segmentation', 'depth')


def mounting(camera: dict) -> RigidTransform:
    """A world camera's mounting as tf gives it: image-frame points into a frame on the ground below it (z up; the
    ground's x and y any way round, which the lock does not read).
    """
    up = np.asarray(ground_up(camera))
    side = np.cross(up, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    return RigidTransform(np.stack([side, np.cross(up, side), up]), np.array([0.0, 0.0, camera['height_m']]))


def true_floor(frame) -> np.ndarray:
    """A rendered frame's floor: pixels whose true normal points up and whose true depth lies on the ground plane."""
    up = np.asarray(ground_up(frame.camera))
    rx, ry = ray_grids(camera_of(frame), frame.depth)
    heights = frame.depth * (up[0] * rx + up[1] * ry + up[2]) + frame.camera['height_m']
    return (np.nan_to_num(frame.normals) @ up > 0.99) & (np.abs(heights) < 0.01)


def _locked_room(with_normals: bool):
    """A room's true answers with the depth 1.5 times too far (no pixel labelled ground; its normals or none),
    locked as the node does with the mounting from tf; (frame, result, lock state, config).
    """
    frame = render_frame(1, 160, 120, preset='indoor', noise=False, pitch_deg=-30.0, height_m=1.0)
    to_ground = mounting(frame.camera)
    config = _config(None, scale_lock='ground')
    result = FrameResult('cam', SimpleNamespace(frame_id='cam_optical'), camera_of(frame), frame.rgb, frame.labels,
                         None, frame.depth * np.float32(1.5), frame.normals if with_normals else None, {}, {}, 1)
    state = lock_depth_as_configured(result, configured_ground_lock(config), config, lambda target, source: to_ground)
    return frame, result, state, config


def test_with_the_mounting_from_tf_the_lock_finds_a_floor_by_the_results_normals():
    frame, result, state, _ = _locked_room(False)           # labelled ground only, and there is none
    assert not state.locked and float(np.nanmedian(result.depth / frame.depth)) == pytest.approx(1.5)
    frame, result, state, _ = _locked_room(True)
    assert state.reason == LOCKED_LEVEL
    assert float(np.nanmedian(result.depth / frame.depth)) == pytest.approx(1.0, abs=0.02)


def test_a_floor_found_by_its_normals_is_free_ground_for_the_navigation_outputs():
    frame, result, state, config = _locked_room(True)
    outputs = make_outputs(result, config, ['ground_points', 'obstacles', 'grid'], ground=state)
    # the free points are the room's floor: the pixels of the cloud's stride that lie on it and face up
    floor = true_floor(frame)
    stride = np.s_[::config.cloud_stride, ::config.cloud_stride]
    assert outputs['ground_points'].payload.points.size == pytest.approx(floor[stride].sum(), rel=0.02)
    assert floor[stride].sum() > 0.1 * floor[stride].size
    assert (outputs['grid'].payload.cells == FREE).sum() > 0
    assert outputs['obstacles'].payload.points.size > 0           # the room's walls and furniture


@pytest.mark.parametrize('scale_lock', ['ground', 'off'])
def test_no_navigation_outputs_stand_on_a_plane_the_lock_refused(scale_lock):
    """Ground-labelled pixels at random depths fit no plane: no free ground, obstacles or grid are invented on the
    best of the refused fits (the diagnostics still show it), locked or not.
    """
    rng = np.random.default_rng(3)
    config = _config(scale_lock=scale_lock, camera_height_m=1.2)
    labels = np.zeros((60, 80), np.uint8)           # all road
    depth = rng.uniform(1.0, 30.0, labels.shape).astype(np.float32)
    result = FrameResult('cam', SimpleNamespace(frame_id='cam_optical'), Intrinsics.from_fov(80, 60, 70.0),
                         np.zeros((60, 80, 3), np.uint8), labels, None, depth, None, {}, {}, 1)
    state = lock_depth_as_configured(result, configured_ground_lock(config), config, None) \
        if scale_lock == 'ground' else configured_ground_lock(config).update(depth, labels, result.intrinsics, None)
    assert not state.locked and not state.plane_holds and state.plane is not None
    assert make_outputs(result, config, ['ground_points', 'obstacles', 'grid', 'ground'], ground=state) == {}


def test_the_level_floor_default_is_the_node_parameters():
    assert BY_NAME['level_floor_deg'].default == LEVEL_FLOOR_DEG


def test_semantic_colour_is_blended_over_the_camera_image_by_overlay_alpha():
    labels = np.zeros((4, 6), np.uint8)                     # road: (128, 64, 128)
    image = np.full((4, 6, 3), 200, np.uint8)
    result = FrameResult('cam', None, Intrinsics.from_fov(6, 4, 90.0), image, labels, None, None, None, {}, {}, 1)
    plain = make_outputs(result, _config(), ['semantic/color'])['semantic/color'].payload
    blended = make_outputs(result, _config(overlay_alpha=0.25), ['semantic/color'])['semantic/color'].payload
    assert (plain == (128, 64, 128)).all()
    np.testing.assert_array_equal(blended, np.array([146, 98, 146], np.uint8)[None, None].repeat(4, 0).repeat(6, 1))


def test_confidence_is_published_as_probabilities_or_as_mono8():
    labels = np.zeros((2, 3), np.uint8)
    confidence = np.array([[0.0, 0.5, 1.0], [0.2, 0.999, 0.25]], np.float32)
    result = FrameResult('cam', None, Intrinsics.from_fov(3, 2, 90.0), np.zeros((2, 3, 3), np.uint8), labels,
                         confidence, None, None, {}, {}, 1)
    topic = 'semantic/confidence'
    floats = make_outputs(result, _config(publish_confidence=True), [topic])[topic].payload
    bytes_ = make_outputs(result, _config(publish_confidence=True, confidence_encoding='mono8'), [topic])[topic].payload
    assert floats.dtype == np.float32 and np.array_equal(floats, confidence)
    assert bytes_.dtype == np.uint8 and bytes_.tolist() == [[0, 128, 255], [51, 255, 64]]
