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

"""A rolled camera's image turned upright for the backend, and its answers turned back into its pixels."""
import math

import numpy as np
import pytest
from test_outputs import mounting
import torch

from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.codecs import decode_normals, depth_to_unit, unit_to_depth
from vision_banana_ros.config import load_config_file
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.engine.upright import Turn, upright_turn
from vision_banana_ros.evaluation.metrics import DepthMetrics, SegmentationMetrics
from vision_banana_ros.evaluation.run import camera_of, ground_up
from vision_banana_ros.geometry.ground import GroundPlane
from vision_banana_ros.geometry.intrinsics import Intrinsics
from vision_banana_ros.geometry.transform import RigidTransform
from vision_banana_ros.outputs import upright_turn_as_configured
from vision_banana_ros.world.render import render_frame


@pytest.mark.parametrize('pitch', [-80.0, -20.0, 0.0, 30.0])
@pytest.mark.parametrize('roll', [-150.0, -90.0, -20.0, 40.0, 90.0, 179.0])
def test_the_turn_undoes_the_roll_of_the_world_camera(pitch, roll):
    assert upright_turn(GroundPlane.up_of(pitch, roll), 15.0) == pytest.approx(-roll, abs=1e-9)


def test_small_rolls_and_straight_down_views_are_not_turned():
    assert upright_turn(GroundPlane.up_of(-10.0, 12.0), 15.0) == 0.0
    assert upright_turn(GroundPlane.up_of(-10.0, 12.0), 0.0) == pytest.approx(-12.0)
    assert upright_turn(GroundPlane.up_of(-89.0, 90.0), 0.0) == 0.0      # within 2 degrees of straight down
    assert upright_turn(GroundPlane.up_of(-87.0, 90.0), 0.0) == pytest.approx(-90.0)


def test_a_cameras_turn_and_its_grids_are_made_once():
    turn = Turn.fitted((120, 200), (72, 96), 90.0, (93.0, 64.5))
    assert Turn.fitted((120, 200), (72, 96), 90.0, (93.0, 64.5)) is turn
    turn.depth(torch.ones(1, 72, 96))
    turn.smooth(torch.ones(1, 1, 72, 96))
    assert list(turn._grids) == [(False, torch.device('cpu'))]


def test_the_turn_needs_the_mountings_rotation_only(tmp_path):
    """A camera below ground_frame's origin (a ground_frame at the body's centre) is still turned by its roll."""
    config = tmp_path / 'params.yaml'
    config.write_text('/**:\n  ros__parameters:\n    upright: true\n')
    below = RigidTransform(mounting({'pitch_deg': 0.0, 'roll_deg': 90.0, 'height_m': 1.0}).rotation,
                           np.array([0.0, 0.0, -0.2]))
    assert upright_turn_as_configured(load_config_file(config, no_tf=None), lambda target, source: below,
                                      'cam') == pytest.approx(-90.0)


def _turns():
    """Turns of a 200 x 120 image with an off-centre principal point onto a 96 x 72 canvas."""
    return [Turn.fitted((120, 200), (72, 96), degrees, (93.0, 64.5)) for degrees in (0.0, 37.0, -90.0, 180.0, 121.0)]


def _canvas_point(turn: Turn) -> tuple[np.ndarray, np.ndarray]:
    """Where each image pixel lies on the canvas (x, y arrays of the image's shape)."""
    y, x = np.mgrid[0:turn.image_size[0], 0:turn.image_size[1]].astype(np.float64)
    a = math.radians(turn.degrees)
    dx, dy = (x - turn.centre[0]) * turn.scale, (y - turn.centre[1]) * turn.scale
    return (turn.canvas_centre[0] + math.cos(a) * dx + math.sin(a) * dy,
            turn.canvas_centre[1] - math.sin(a) * dx + math.cos(a) * dy)


@pytest.mark.parametrize('turn', _turns(), ids=lambda t: f'{t.degrees:g}deg')
def test_the_whole_image_lands_on_the_canvas(turn):
    qx, qy = _canvas_point(turn)
    h, w = turn.canvas_size
    assert qx.min() >= -0.5 and qx.max() <= w - 0.5 and qy.min() >= -0.5 and qy.max() <= h - 0.5
    # fitted: the turned image touches two opposite sides of the canvas (its corner pixels' centres lie within
    # half a turned pixel of them)
    a = math.radians(turn.degrees)
    margin = 0.5 * turn.scale * (abs(math.cos(a)) + abs(math.sin(a))) + 1e-9
    assert min(qx.min() + 0.5, w - 0.5 - qx.max()) < margin or min(qy.min() + 0.5, h - 0.5 - qy.max()) < margin


@pytest.mark.parametrize('turn', _turns(), ids=lambda t: f'{t.degrees:g}deg')
def test_answers_come_back_to_the_pixels_they_were_given_for(turn):
    """Canvas answers that are known functions of the canvas pixel come back as those functions of where each
    image pixel lies on the canvas: depth (linear in the codec's f-space, which it is interpolated in), labels (one
    side of a line or the other), normals (one canvas normal: turned back about the optical axis). Invalid depth
    and normals stay invalid, far depth stays far.
    """
    h, w = turn.canvas_size
    qy, qx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing='ij')
    f = 0.2 + 0.004 * qx + 0.003 * qy
    depth = turn.depth(unit_to_depth(f)[None])[0]
    px, py = _canvas_point(turn)
    inside = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)   # not extrapolated past the canvas's edge
    expected = torch.from_numpy(0.2 + 0.004 * px + 0.003 * py).float()
    assert torch.allclose(depth_to_unit(depth)[inside], expected[inside], atol=1e-4)

    labels = turn.nearest((qx > w / 2).to(torch.uint8)[None, None])[0, 0].numpy()
    clear = np.abs(px - w / 2) > 1.0
    assert (labels[clear] == (px[clear] > w / 2)).all()

    normal = torch.tensor([0.6, 0.0, -0.8])
    back = turn.normals(normal.view(1, 3, 1, 1).expand(1, 3, h, w).clone())[0]
    a = math.radians(turn.degrees)
    expected = torch.tensor([0.6 * math.cos(a), 0.6 * math.sin(a), -0.8])   # M^T n
    assert torch.allclose(back.permute(1, 2, 0), expected, atol=1e-5)

    left = qx < w / 2      # the canvas's left half invalid (NaN) or far (+inf)
    nan_left = turn.depth(torch.where(left, torch.nan, unit_to_depth(f))[None])[0].numpy()
    assert np.isnan(nan_left[px < w / 2 - 1]).all() and np.isfinite(nan_left[px > w / 2 + 1]).all()
    far_left = turn.depth(torch.where(left, torch.inf, unit_to_depth(f))[None])[0].numpy()
    assert np.isposinf(far_left[px < w / 2 - 1]).all() and np.isfinite(far_left[px > w / 2 + 1]).all()
    normals = torch.where(left, torch.nan, normal.view(3, 1, 1)).expand(3, h, w)[None]
    back = turn.normals(normals)[0].permute(1, 2, 0).numpy()
    assert np.isnan(back[px < w / 2 - 1]).all() and np.isfinite(back[px > w / 2 + 1]).all()


@pytest.mark.parametrize('turn', _turns(), ids=lambda t: f'{t.degrees:g}deg')
def test_the_canvas_shows_the_image_turned_and_comes_back_to_it(turn):
    """An image linear in x and y (which bilinear sampling and the antialiasing shrink keep): each canvas pixel whose
    source lies inside the image shows the image's value there, and the canvas sampled back gives the image again.
    """
    height, width = turn.image_size
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64),
                          indexing='ij')
    image = torch.stack([0.2 + 0.003 * x, 0.9 - 0.004 * y, 0.1 + 0.002 * x + 0.002 * y]).float()
    canvas = turn.image(image[None])[0]
    assert canvas.shape == (3, *turn.canvas_size)
    h, w = turn.canvas_size
    qy, qx = np.mgrid[0:h, 0:w].astype(np.float64)
    a = math.radians(turn.degrees)
    dx, dy = (qx - turn.canvas_centre[0]) / turn.scale, (qy - turn.canvas_centre[1]) / turn.scale
    sx, sy = turn.centre[0] + math.cos(a) * dx - math.sin(a) * dy, turn.centre[1] + math.sin(a) * dx + math.cos(a) * dy
    inside = (sx >= 2) & (sx <= width - 3) & (sy >= 2) & (sy <= height - 3)   # clear of the antialiasing's border
    expected = np.stack([0.2 + 0.003 * sx, 0.9 - 0.004 * sy, 0.1 + 0.002 * sx + 0.002 * sy])
    assert inside.sum() > 0.3 * h * w and np.abs(canvas.numpy()[:, inside] - expected[:, inside]).max() < 2e-3
    back = turn.smooth(canvas[None])[0]
    inner = (slice(8, -8), slice(8, -8))
    assert (back[:, inner[0], inner[1]] - image[:, inner[0], inner[1]]).abs().max() < 5e-3


def test_answers_of_reduced_precision_come_back_too():
    turn = _turns()[1]
    confidence = torch.full((1, 1, *turn.canvas_size), 0.75, dtype=torch.bfloat16)
    back = turn.smooth(confidence)
    assert back.dtype == torch.bfloat16 and torch.allclose(back.float(), torch.tensor(0.75))


def test_a_turned_frame_keeps_its_shape_and_batches_with_upright_ones(tiny_weights):
    runner = BatchRunner(UnifiedBackend(tiny_weights), ('segmentation', 'depth', 'normals'))
    rgb = np.random.default_rng(0).integers(0, 255, (90, 140, 3), dtype=np.uint8)
    camera = Intrinsics(100.0, 100.0, 60.0, 50.0, 140, 90)
    plain, turned = runner.run([FrameRequest('a', rgb, intrinsics=camera),
                                FrameRequest('b', rgb, intrinsics=camera, turn_deg=-90.0)])
    for result in (plain, turned):
        assert result.labels.shape == result.depth.shape == (90, 140) and result.normals.shape == (90, 140, 3)
        assert result.encodings['depth'].shape == (90, 140, 3) and result.confidence.shape == (90, 140)
    assert not np.array_equal(plain.depth, turned.depth)


def test_answers_of_reduced_precision_keep_their_types_turned(tiny_weights):
    runner = BatchRunner(UnifiedBackend(tiny_weights), ('segmentation', 'depth', 'normals'), precision='bf16')
    rgb = np.random.default_rng(1).integers(0, 255, (60, 80, 3), dtype=np.uint8)
    camera = Intrinsics.from_fov(80, 60, 70.0)
    plain, turned = runner.run([FrameRequest('a', rgb, intrinsics=camera),
                                FrameRequest('b', rgb, intrinsics=camera, turn_deg=120.0)])
    for name in ('labels', 'confidence', 'depth', 'normals'):
        assert getattr(turned, name).dtype == getattr(plain, name).dtype, name
    assert {t: e.dtype for t, e in turned.encodings.items()} == {t: e.dtype for t, e in plain.encodings.items()}


def _scores(results, frames) -> tuple[float, float]:
    seg, depth = SegmentationMetrics(), DepthMetrics()
    for result, frame in zip(results, frames):
        seg.update(result.labels, frame.labels)
        depth.update(result.depth, frame.depth)
    return seg.pixel_accuracy(), depth.summary()['delta1_median_scaled']


def test_the_embedded_model_reads_rolled_cameras_better_turned_upright():
    """Street cameras on their side or upside down: the embedded model, taught rolls up to 12 degrees, labels and
    shapes them better when the engine turns them upright (the world's roll is what tf's mounting gives the node).
    """
    frames = [render_frame(seed, preset='street', roll_deg=roll, pitch_deg=-5.0)
              for seed, roll in ((3, 90.0), (4, -90.0), (5, 180.0), (6, 135.0))]
    runner = BatchRunner(UnifiedBackend(), ('segmentation', 'depth', 'normals'))
    as_is = runner.run([FrameRequest('cam', f.rgb, intrinsics=camera_of(f)) for f in frames])
    turned = runner.run([FrameRequest('cam', f.rgb, intrinsics=camera_of(f),
                                      turn_deg=upright_turn(ground_up(f.camera), 15.0))
                         for f in frames])
    (accuracy, shape), (turned_accuracy, turned_shape) = _scores(as_is, frames), _scores(turned, frames)
    print(f'\npixel accuracy {accuracy:.3f} -> {turned_accuracy:.3f}, median-scaled delta1 {shape:.3f} -> '
          f'{turned_shape:.3f}')
    assert turned_accuracy > accuracy + 0.2 and turned_shape > shape
    for result in turned:   # the normals picture paints the normals turned back (the image camera's, not the canvas's)
        painted = decode_normals(result.encodings['normals'])
        valid = np.isfinite(result.normals).all(-1)
        assert valid.mean() > 0.5 and np.abs(painted[valid] - result.normals[valid]).max() < 0.02


def test_a_frame_turned_without_its_intrinsics_is_refused():
    """The turned image is shown smaller than its canvas: a lens assumed for the canvas would misjudge its depth."""
    rgb = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(ValueError, match='turned upright needs its intrinsics'):
        FrameRequest('cam', rgb, turn_deg=90.0)
    FrameRequest('cam', rgb)        # upright frames go without
