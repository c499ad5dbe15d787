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

"""The batch runner and the batching engine: resolutions, precisions, overload and errors."""
import threading
import time

import numpy as np
import pytest
import torch

from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.codecs import CITYSCAPES, depth_to_unit, encode_depth_torch, encode_normals_torch, unit_to_depth
from vision_banana_ros.device import precision_warning, resolve_device
from vision_banana_ros.engine import BatchRunner, Engine, FrameRequest
from vision_banana_ros.tasks import TASKS


@pytest.fixture(scope='module')
def backend(tiny_weights):
    return UnifiedBackend(tiny_weights, processing_size=(64, 96))


def image(h=48, w=64, value=0):
    rng = np.random.default_rng(value)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


class SlowRunner(BatchRunner):
    """The real runner, slowed down to a known processing rate so that overload can be provoked."""

    def __init__(self, backend, delay):
        super().__init__(backend, TASKS)
        self.delay = delay
        self.batch_sizes = []

    def run(self, requests):
        """Run the batch after sleeping `delay` seconds, recording the batch size."""
        self.batch_sizes.append(len(requests))
        time.sleep(self.delay)
        return super().run(requests)


def test_runner_outputs_at_input_resolution_with_units(backend):
    runner = BatchRunner(backend, TASKS)
    results = runner.run([FrameRequest('a', image(48, 64), header='h1'), FrameRequest('b', image(30, 90), header='h2')])
    a, b = results
    assert (a.camera_id, a.header, b.camera_id, b.header) == ('a', 'h1', 'b', 'h2')
    assert a.labels.shape == (48, 64) and a.labels.dtype == np.uint8
    assert b.depth.shape == (30, 90) and b.depth.dtype == np.float32
    assert b.normals.shape == (30, 90, 3) and a.confidence.shape == (48, 64)
    assert set(a.encodings) == set(TASKS) and a.encodings['depth'].shape == (48, 64, 3)
    finite = np.isfinite(a.normals).all(-1)
    np.testing.assert_allclose(np.linalg.norm(a.normals[finite], axis=-1), 1.0, atol=1e-4)
    assert set(np.unique(a.labels)) <= set(range(19)) | {255}
    assert set(a.timings) == {'queue', 'upload', 'forward', 'decode', 'download'} and a.batch_size == 2


def test_each_frame_of_a_batch_gets_its_own_answer(backend):
    runner = BatchRunner(backend, TASKS)
    requests = [FrameRequest(f'cam{k}', image(value=k)) for k in range(3)]      # same size, different content
    batched = runner.run(requests)
    assert not np.array_equal(batched[0].depth, batched[1].depth)
    for request, result in zip(requests, batched):
        alone = runner.run([request])[0]
        # Labels may differ where a colour rounds differently in another batch size: a pixel or so, not a frame.
        assert (result.labels == alone.labels).mean() > 0.999
        np.testing.assert_allclose(result.depth, alone.depth, rtol=1e-4)


@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
def test_reduced_precision_answers_stay_close_to_fp32(backend, precision):
    request = FrameRequest('a', image())
    exact = BatchRunner(backend, TASKS).run([request])[0]
    reduced = BatchRunner(backend, TASKS, precision=precision).run([request])[0]
    assert reduced.depth.dtype == np.float32 and reduced.labels.shape == exact.labels.shape
    assert (reduced.labels == exact.labels).mean() > 0.9
    finite = np.isfinite(exact.depth) & np.isfinite(reduced.depth)
    assert finite.mean() > 0.9 and np.median(np.abs(np.log(reduced.depth[finite] / exact.depth[finite]))) < 0.05


def test_runner_rejects_tasks_the_backend_cannot_answer(backend):
    with pytest.raises(ValueError, match='tasks'):
        BatchRunner(backend, ('segmentation', 'optical flow'))
    with pytest.raises(ValueError, match='precision'):
        BatchRunner(backend, TASKS, precision='fp8')


def test_bad_frames_are_refused_with_the_camera_named():
    with pytest.raises(ValueError, match="camera 'front'"):
        FrameRequest('front', np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match='too small'):
        FrameRequest('front', np.zeros((2, 10, 3), np.uint8))


def test_devices():
    assert resolve_device('cpu').type == 'cpu'
    assert resolve_device('auto').type == ('cuda' if torch.cuda.is_available() else 'cpu')
    with pytest.raises(ValueError, match='device'):
        resolve_device('tpu')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='no CUDA'):
            resolve_device('cuda:0')


def test_four_cameras_are_batched_and_map_back(backend):
    runner = SlowRunner(backend, delay=0.02)
    with Engine(runner, max_batch=4, max_wait_ms=50) as engine:
        barrier = threading.Barrier(4)
        futures = {}

        def camera(name):
            barrier.wait()
            for k in range(5):
                futures[(name, k)] = engine.submit(FrameRequest(name, image(value=k), header=(name, k)))
                time.sleep(0.03)

        threads = [threading.Thread(target=camera, args=(f'cam{i}',)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = {key: f.result(timeout=10) for key, f in futures.items() if not f.cancelled()}
    assert max(runner.batch_sizes) > 1
    for (name, k), result in done.items():
        assert result.camera_id == name and result.header == (name, k)


def test_flood_keeps_the_queue_bounded_and_the_newest_frame_processed(backend):
    runner = SlowRunner(backend, delay=0.01)
    with Engine(runner, max_batch=1, max_wait_ms=0) as engine:
        futures = []
        peak = 0
        for k in range(1000):
            futures.append(engine.submit(FrameRequest('front', image(value=k % 7), header=k)))
            peak = max(peak, engine.queued())
            time.sleep(0.001)  # about 10x the processing rate
        last = futures[-1].result(timeout=10)
    assert peak <= 1
    assert last.header == 999
    stats = engine.stats.snapshot()['counts']
    assert stats['dropped'] > 500 and stats['dropped'] + stats['processed'] == 1000


def test_a_camera_that_republishes_while_waiting_keeps_its_place(backend):
    """Overload: one camera sends 3x as often as the others, two frames per batch. Every camera is served."""
    runner = SlowRunner(backend, delay=0.03)
    served = {}
    with Engine(runner, max_batch=2, max_wait_ms=0, on_result=lambda r: served.update(
            {r.camera_id: served.get(r.camera_id, 0) + 1})) as engine:
        for k in range(120):
            engine.submit(FrameRequest('fast', image(), header=k))
            if k % 3 == 0:
                for name in ('a', 'b', 'c', 'd'):
                    engine.submit(FrameRequest(name, image(), header=k))
            time.sleep(0.01)
        time.sleep(0.3)
    assert set(served) == {'fast', 'a', 'b', 'c', 'd'}
    assert min(served.values()) >= 0.3 * max(served.values()), served


def test_close_joins_the_worker_quickly(backend):
    engine = Engine(SlowRunner(backend, delay=0.2), max_batch=2, max_wait_ms=1)
    pending = [engine.submit(FrameRequest(f'c{i}', image())) for i in range(4)]
    time.sleep(0.05)
    started = time.monotonic()
    assert engine.close(timeout=2.0)                       # True: the worker has stopped
    assert time.monotonic() - started < 2.0 and not engine._worker.is_alive()
    assert any(f.cancelled() for f in pending)
    with pytest.raises(RuntimeError, match='closed'):
        engine.submit(FrameRequest('x', image()))


def test_failing_batches_and_callbacks_do_not_stop_the_engine(backend):
    seen = []

    class Flaky(BatchRunner):

        def run(self, requests):
            if requests[0].header == 'boom':
                raise RuntimeError('boom')
            return super().run(requests)

    def consumer(result):
        seen.append(result.header)
        raise RuntimeError('consumer bug')

    with Engine(Flaky(backend, TASKS), max_batch=1, max_wait_ms=0, on_result=consumer) as engine:
        bad = engine.submit(FrameRequest('a', image(), header='boom'))
        with pytest.raises(RuntimeError, match='boom'):
            bad.result(timeout=5)
        good = engine.submit(FrameRequest('a', image(), header='fine'))
        assert good.result(timeout=5).header == 'fine'
    counts = engine.stats.snapshot()['counts']
    assert counts['failed'] == 1 and counts['callback_errors'] == 1 and seen == ['fine']


def test_frames_get_only_the_tasks_they_ask_for(backend):
    runner = BatchRunner(backend, TASKS)
    depth_only, everything = runner.run([FrameRequest('a', image(), tasks=('depth',)), FrameRequest('b', image())])
    assert depth_only.labels is None and depth_only.normals is None and depth_only.depth is not None
    assert set(depth_only.encodings) == {'depth'}
    assert everything.labels is not None and set(everything.encodings) == set(TASKS)


def test_mirror_averaged_answers_mirror_with_the_image(tiny_weights):
    """Each image is answered with its mirror image: the answers for a mirrored image are the mirrored answers
    (normals with x negated), which the network alone does not give.
    """
    frame = image(64, 96)
    for mirror_average in (True, False):
        runner = BatchRunner(UnifiedBackend(tiny_weights, processing_size=(64, 96), mirror_average=mirror_average),
                             TASKS)
        plain, flipped = runner.run([FrameRequest('a', frame), FrameRequest('b', np.ascontiguousarray(frame[:, ::-1]))])
        depth_mirrors = np.allclose(plain.depth, flipped.depth[:, ::-1], rtol=1e-4)
        assert depth_mirrors == mirror_average
        if mirror_average:
            assert np.mean(plain.labels == flipped.labels[:, ::-1]) > 0.999
            np.testing.assert_allclose(plain.normals, flipped.normals[:, ::-1] * [-1.0, 1.0, 1.0], atol=1e-4)


def test_mirror_average_means_depth_along_the_transform_and_normals_as_vectors(tiny_weights):
    backend = UnifiedBackend(tiny_weights, processing_size=(2, 2))
    depth = torch.tensor([[[2.0, 10.0], [40.0, torch.inf]]])
    other = torch.tensor([[[4.0, 10.0], [20.0, 5.0]]])
    normals = torch.nn.functional.normalize(torch.tensor([[[[0.6, -0.2], [0.0, 0.3]], [[0.0, 0.5], [-1.0, 0.1]],
                                                           [[-0.8, -0.8], [-0.2, -0.9]]]]), dim=1)
    other_normals = torch.nn.functional.normalize(normals + torch.tensor([0.0, 0.3, 0.0]).view(1, 3, 1, 1), dim=1)

    def as_mirror_answer(rgb):
        return rgb.flip(-1)   # what the network paints for the mirror image, flipped back

    def to_mirror_frame(n):
        return n * torch.tensor([-1.0, 1.0, 1.0]).view(1, 3, 1, 1)
    raw = {'depth': torch.cat([encode_depth_torch(depth), as_mirror_answer(encode_depth_torch(other))]),
           'normals': torch.cat([encode_normals_torch(normals),
                                 as_mirror_answer(encode_normals_torch(to_mirror_frame(other_normals)))])}
    out = backend.decode(raw, ('depth', 'normals'))
    expected = unit_to_depth((depth_to_unit(depth) + depth_to_unit(other)) / 2)
    torch.testing.assert_close(out.depth, expected, rtol=1e-4, atol=0)
    assert 10.0 < out.depth[0, 1, 1] < 1e3         # far and 5 m: far, not infinite
    torch.testing.assert_close(out.normals, torch.nn.functional.normalize(normals + other_normals, dim=1),
                               rtol=0, atol=1e-5)


def test_single_and_mirrored_answers_decode_to_the_same_class_colours(tiny_weights):
    """The network is taught the class colours only: a truck painted darker than its colour, nearer black (the
    ignore colour) than truck, is a truck with or without the mirror image, never unknown.
    """
    dark_truck = torch.tensor([0.0, 0.0, 30.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2) / 255.0
    for mirror_average in (False, True):
        backend = UnifiedBackend(tiny_weights, processing_size=(2, 2), mirror_average=mirror_average)
        raw = {'segmentation': dark_truck.repeat(2 if mirror_average else 1, 1, 1, 1)}
        out = backend.decode(raw, ('segmentation',))
        assert (out.labels == CITYSCAPES.names.index('truck')).all(), mirror_average
        assert ((out.confidence > 0) & (out.confidence <= 1)).all()


@pytest.mark.slow
def test_compiled_network_answers_like_the_eager_one(tiny_weights):
    eager, compiled = (UnifiedBackend(tiny_weights, processing_size=(64, 96), compile=c) for c in (False, True))
    frames = [FrameRequest('a', image())]
    a, b = BatchRunner(eager, TASKS).run(frames)[0], BatchRunner(compiled, TASKS).run(frames)[0]
    assert np.mean(a.labels == b.labels) > 0.999
    np.testing.assert_allclose(a.depth, b.depth, rtol=1e-3)


def test_half_precision_on_a_cpu_without_half_units_is_warned_of():
    cpu = torch.device('cpu')
    assert precision_warning(cpu, 'fp32') is None
    for precision, units in (('bf16', torch.ops.mkldnn._is_mkldnn_bf16_supported()),
                             ('fp16', torch.ops.mkldnn._is_mkldnn_fp16_supported())):
        warning = precision_warning(cpu, precision)
        assert (warning is None) == units
        assert units or (warning.startswith(f'precision {precision}: this CPU') and warning.endswith('use fp32'))
    with pytest.raises(ValueError, match='precision'):
        precision_warning(cpu, 'int8')
