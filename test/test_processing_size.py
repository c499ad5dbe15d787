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

"""The unified network's processing size follows each camera's aspect ratio unless one is given."""
import math

import numpy as np
import pytest

from vision_banana_ros.backends.unified import matched_size, UnifiedBackend
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.evaluation.run import evaluate
from vision_banana_ros.geometry import Intrinsics
from vision_banana_ros.tasks import TASKS
from vision_banana_ros.world import render_frame


@pytest.mark.parametrize('image, expected', [((480, 640), (240, 320)), ((960, 1280), (240, 320)),
                                             ((720, 1280), (224, 384)), ((1280, 720), (384, 224)),
                                             ((1024, 1024), (288, 288)), ((800, 1280), (224, 352))])
def test_about_the_trained_pixels_in_the_cameras_aspect_ratio(image, expected):
    size = matched_size((240, 320), image, 32)
    assert size == expected
    if size != (240, 320):
        assert size[0] % 32 == 0 and size[1] % 32 == 0                        # nothing for the network to pad
        assert 0.8 <= size[0] * size[1] / (240 * 320) <= 1.25
        assert abs(math.log(size[1] / size[0] / (image[1] / image[0]))) < 0.1


def test_frames_of_two_aspect_ratios_are_each_answered_as_alone(tiny_weights):
    """A 16:9 and a 4:3 camera in one batch go in two forwards, each at its own size; a given size serves both."""
    rng = np.random.default_rng(0)
    wide, narrow = rng.integers(0, 256, (90, 160, 3), np.uint8), rng.integers(0, 256, (60, 80, 3), np.uint8)
    backend = UnifiedBackend(tiny_weights, mirror_average=False)
    assert backend.size_for((90, 160)) != backend.size_for((60, 80)) == backend.processing_size
    runner = BatchRunner(backend, TASKS)
    together = runner.run([FrameRequest('wide', wide), FrameRequest('narrow', narrow)])
    for alone, result in zip((runner.run([FrameRequest('wide', wide)])[0], runner.run([FrameRequest('n', narrow)])[0]),
                             together):
        assert np.mean(alone.labels == result.labels) > 0.999
        np.testing.assert_allclose(alone.depth, result.depth, rtol=1e-4)
    given = UnifiedBackend(tiny_weights, processing_size=(64, 96))
    assert given.size_for((90, 160)) == given.size_for((60, 80)) == (64, 96)


def test_16_9_frames_are_measured_better_at_their_own_aspect_ratio():
    """Squashed to 320x240, a 16:9 street looks stretched upward and the embedded model misjudges its metres."""
    frames = [render_frame(seed, 448, 252, preset='street') for seed in range(10)]
    squashed = evaluate(UnifiedBackend(processing_size=(240, 320)), frames)
    matched = evaluate(UnifiedBackend(), frames)
    print(f"\ndelta1 of 16:9 street frames: squashed to 320x240 {squashed['delta1']:.3f}, at 384x224 "
          f"{matched['delta1']:.3f}")
    assert matched['delta1'] > squashed['delta1'] + 0.05


def test_a_camera_on_its_side_is_shown_on_a_canvas_of_its_turned_shape(tiny_weights):
    """Turned upright, a 4:3 camera on its side is a 3:4 picture: on a 4:3 canvas it would be shrunk to three
    quarters; it goes on a portrait canvas with the trained pixel count instead (a 30 deg roll on its turned box).
    """
    from vision_banana_ros.engine.runner import _shown_size
    image, camera = np.zeros((480, 640, 3), np.uint8), Intrinsics.from_fov(640, 480, 70.0)
    backend = UnifiedBackend(tiny_weights)
    assert _shown_size(FrameRequest('cam', image)) == (480, 640)
    assert backend.size_for(_shown_size(FrameRequest('cam', image, intrinsics=camera, turn_deg=90.0))) == (320, 256)
    assert _shown_size(FrameRequest('cam', image, intrinsics=camera, turn_deg=-30.0)) == (736, 794)
