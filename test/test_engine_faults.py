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

"""Faults in the engine cost only their own frames: a poison frame, absurd intrinsics, CUDA out of memory."""
import numpy as np
import pytest
import torch

from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.engine import BatchRunner, Engine, FrameRequest
from vision_banana_ros.geometry import Intrinsics
from vision_banana_ros.tasks import TASKS


@pytest.fixture(scope='module')
def backend(tiny_weights):
    return UnifiedBackend(tiny_weights, processing_size=(64, 96))


def image(h=48, w=64, value=0):
    return np.random.default_rng(value).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _run_four(engine, poison=None):
    """Submit one frame for each of four cameras (`poison` maps a camera to its FrameRequest keywords) and wait
    for every future; returns camera -> result or the exception.
    """
    futures = {name: engine.submit(FrameRequest(name, image(value=k), header=name, **(poison or {}).get(name, {})))
               for k, name in enumerate(('a', 'b', 'c', 'd'))}
    outcome = {}
    for name, future in futures.items():
        try:
            outcome[name] = future.result(timeout=60)
        except Exception as exc:
            outcome[name] = exc
    return outcome


def test_a_poison_frame_fails_alone_and_its_batch_mates_are_answered(backend):
    errors = []
    # fx = 5e-324 survives Intrinsics' checks and becomes 0 when scaled down to the processing size.
    tiny_focal = Intrinsics(5e-324, 5e-324, 100.0, 75.0, 200, 150)
    with Engine(BatchRunner(backend, TASKS), max_batch=4, max_wait_ms=2000,
                on_error=lambda requests, exc: errors.extend(r.camera_id for r in requests)) as engine:
        outcome = _run_four(engine, poison={'c': {'intrinsics': tiny_focal}})
    assert isinstance(outcome['c'], ValueError)
    assert all(outcome[name].header == name for name in 'abd'), outcome
    assert errors == ['c']
    counts = engine.stats.snapshot()['counts']
    assert counts['failed'] == 1 and counts['processed'] == 3


class OutOfMemoryAbove(UnifiedBackend):
    """The tiny network, failing as CUDA does when a batch holds more than `limit` images."""

    def __init__(self, weights, limit):
        super().__init__(weights, processing_size=(64, 96))
        self.limit = limit
        self.sizes = []

    def forward(self, images, tasks, intrinsics=None):
        """Raise torch.OutOfMemoryError for a batch above the limit."""
        self.sizes.append(images.shape[0])
        if images.shape[0] > self.limit:
            raise torch.OutOfMemoryError(f'CUDA out of memory (injected: {images.shape[0]} > {self.limit})')
        return super().forward(images, tasks, intrinsics)


def test_out_of_memory_halves_the_batch_and_every_frame_is_answered(tiny_weights):
    backend = OutOfMemoryAbove(tiny_weights, limit=1)
    with Engine(BatchRunner(backend, TASKS), max_batch=4, max_wait_ms=2000) as engine:
        outcome = _run_four(engine)
        assert all(outcome[name].header == name for name in 'abcd'), outcome
        assert engine.max_batch == 1                        # 4 -> 2 -> 1, and it stays there
        outcome = _run_four(engine)
        assert all(outcome[name].header == name for name in 'abcd'), outcome
    counts = engine.stats.snapshot()['counts']
    assert counts['out_of_memory'] == 2 and counts.get('failed', 0) == 0 and counts['processed'] == 8
    assert max(backend.sizes[-4:]) == 1                     # the second round never tried a bigger batch
    rclpy = pytest.importorskip('rclpy')
    from diagnostic_msgs.msg import DiagnosticStatus

    from vision_banana_ros.ros.diagnostics import DiagnosticsPublisher
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node('vision_banana_oom_test', context=context)
    try:
        status = DiagnosticsPublisher(node, 'vision_banana')._engine_status(engine)
        values = {kv.key: kv.value for kv in status.values}
        assert status.level == DiagnosticStatus.WARN and 'out of memory' in status.message
        assert values['out_of_memory'] == '2' and values['max_batch_now'] == '1'
    finally:
        node.destroy_node()
        rclpy.shutdown(context=context)


@pytest.mark.parametrize('k', [
    [5e-324, 0, 320, 0, 5e-324, 240, 0, 0, 1],          # focal length that vanishes when scaled
    [1e308, 0, 320, 0, 1e308, 240, 0, 0, 1],            # one that overflows
    [500, 0, 1e9, 0, 500, 240, 0, 0, 1],                # principal point far outside the image
    [500, 0, 320, 0, 500, -1e7, 0, 0, 1],
])
def test_absurd_camera_info_intrinsics_are_refused(k):
    with pytest.raises(ValueError, match='camera_info'):
        Intrinsics.from_camera_info_fields(k, [0.0] * 12, 640, 480)
    info_like = type('Info', (), {})()
    info_like.k, info_like.p, info_like.width, info_like.height = k, [0.0] * 12, 640, 480
    info_like.binning_x = info_like.binning_y = 0
    info_like.roi = type('Roi', (), {'x_offset': 0, 'y_offset': 0, 'width': 0, 'height': 0})()
    intrinsics, reason = Intrinsics.for_image(info_like, 320, 240, rectified=False, fallback_hfov_deg=90.0)
    assert reason and intrinsics == Intrinsics.from_fov(320, 240, 90.0)


def test_plausible_camera_info_still_passes_and_non_finite_is_refused():
    with pytest.raises(ValueError, match='finite'):
        Intrinsics.from_camera_info_fields([500, 0, 320, 0, float('inf'), 240, 0, 0, 1], [0.0] * 12, 640, 480)
    wide = Intrinsics.from_camera_info_fields([100, 0, 320, 0, 100, 240, 0, 0, 1], [0.0] * 12, 640, 480)
    tele = Intrinsics.from_camera_info_fields([40000, 0, -50, 0, 40000, 500, 0, 0, 1], [0.0] * 12, 640, 480)
    assert wide.fx == 100 and tele.cx == -50
