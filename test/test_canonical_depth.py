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

"""Camera-aware depth: weights that paint canonical depth are scaled by each frame's focal length in pixels at the
processing size; older weights paint metres and are read as before; training teaches the canonical camera's depth
and keeps its focal length in pixels.
"""
import json

import numpy as np
import pytest
from tiny_model import TINY
import torch

from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.geometry.intrinsics import Intrinsics
from vision_banana_ros.model.canonical import CANONICAL_FOCAL, CANONICAL_HFOV_DEG
from vision_banana_ros.model.network import VisionBananaNet
from vision_banana_ros.model.served import parameters
from vision_banana_ros.model.train import canonical_depth, train, TrainingSet, TrainOptions
from vision_banana_ros.model.weights import CANONICAL_FOCAL_KEY, load_network, read_metadata, save_network, trained_size
from vision_banana_ros.world import render_frame


@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    """The same tiny network saved as metric (older files) and as canonical."""
    root = tmp_path_factory.mktemp('canonical')
    torch.manual_seed(3)
    network = VisionBananaNet(TINY)
    save_network(network, root / 'metric.safetensors')
    network.canonical_focal = CANONICAL_FOCAL
    save_network(network, root / 'canonical.safetensors')
    return root


def test_the_canonical_camera_is_a_70_degree_lens():
    assert np.degrees(2 * np.arctan(0.5 / CANONICAL_FOCAL)) == pytest.approx(CANONICAL_HFOV_DEG)


def test_weights_record_the_canonical_focal_length(weights, tmp_path):
    assert load_network(weights / 'metric.safetensors').canonical_focal is None
    assert load_network(weights / 'canonical.safetensors').canonical_focal == pytest.approx(CANONICAL_FOCAL)
    assert CANONICAL_FOCAL_KEY not in read_metadata(weights / 'metric.safetensors')
    network = load_network(weights / 'metric.safetensors')
    network.canonical_focal = -1.0
    save_network(network, tmp_path / 'bad.safetensors')
    with pytest.raises(ValueError, match=CANONICAL_FOCAL_KEY):
        load_network(tmp_path / 'bad.safetensors')


def _depths(path, cameras, mirror_average=True):
    image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    backend = UnifiedBackend(path, processing_size=(48, 64), mirror_average=mirror_average)
    results = BatchRunner(backend, ('depth',)).run([FrameRequest('c', image, intrinsics=c) for c in cameras])
    return [r.depth for r in results]


@pytest.mark.parametrize('mirror_average', [True, False])
def test_canonical_depth_scales_with_the_focal_length(weights, mirror_average):
    wide, canonical, tele = (Intrinsics.from_fov(64, 48, fov) for fov in (100.0, CANONICAL_HFOV_DEG, 40.0))
    d_wide, d_canonical, d_none, d_tele = _depths(weights / 'canonical.safetensors', [wide, canonical, None, tele],
                                                  mirror_average)
    np.testing.assert_allclose(d_none, d_canonical, rtol=1e-5)     # unknown intrinsics: the canonical camera
    np.testing.assert_allclose(d_wide / d_canonical, wide.fx / canonical.fx, rtol=1e-4)
    np.testing.assert_allclose(d_tele / d_canonical, tele.fx / canonical.fx, rtol=1e-4)
    # a camera resized keeps fx / width: the same scale
    half = Intrinsics(wide.fx * 2, wide.fy * 2, wide.cx * 2, wide.cy * 2, 128, 96)
    np.testing.assert_allclose(_depths(weights / 'canonical.safetensors', [half], mirror_average)[0], d_wide,
                               rtol=1e-4)


def test_metric_weights_ignore_the_focal_length(weights):
    wide, tele = (Intrinsics.from_fov(64, 48, fov) for fov in (100.0, 40.0))
    d_wide, d_tele = _depths(weights / 'metric.safetensors', [wide, tele])
    np.testing.assert_array_equal(d_wide, d_tele)


def test_training_sets_carry_each_frames_focal_length():
    frames = [render_frame(seed, 64, 48, preset='wide') for seed in (1, 2)]
    data = TrainingSet.from_frames(frames)
    np.testing.assert_allclose(data.focal.numpy(), [f.intrinsics['fx'] / 64 for f in frames], rtol=1e-6)
    generator = torch.Generator()
    generator.manual_seed(0)
    batch = data.batch(4, generator, torch.device('cpu'), crop=(32, 32), augmented=False)
    pixels = np.array([f.intrinsics['fx'] for f in frames])    # a window shows the frame at its pixel scale
    for focal in batch['focal'].numpy():
        assert np.abs(pixels / focal - 1).min() < 1e-6


def test_windows_and_whole_frames_teach_the_same_canonical_depth():
    frame = render_frame(1, 64, 48, preset='wide')
    data = TrainingSet.from_frames([frame])
    generator = torch.Generator()
    generator.manual_seed(0)
    for crop in (None, (32, 32)):
        batch = data.batch(2, generator, torch.device('cpu'), crop=crop, augmented=False)
        expected = batch['depth'] * CANONICAL_FOCAL * 64 / frame.intrinsics['fx']
        torch.testing.assert_close(canonical_depth(batch, CANONICAL_FOCAL, 64), expected, equal_nan=True)


def _painted_depth(path, size, colour=0.4):
    """The metres that one painted depth colour decodes to at processing `size` (height, width), intrinsics unknown."""
    backend = UnifiedBackend(path, processing_size=size, mirror_average=False)
    raw = {'depth': torch.full((1, 3, *size), colour)}
    return backend.decode(raw, ('depth',)).depth[0].numpy()


def test_canonical_depth_keeps_its_metres_at_another_processing_size(tmp_path):
    """The same picture processed at twice the width shows everything twice as large: the network paints half the
    canonical depth there, so one painted colour must mean twice the metres.
    """
    network = VisionBananaNet(TINY)
    network.canonical_focal = CANONICAL_FOCAL
    save_network(network, tmp_path / 'w.safetensors', trained_size=(48, 64))
    at_trained, at_double = (_painted_depth(tmp_path / 'w.safetensors', size) for size in ((48, 64), (96, 128)))
    np.testing.assert_allclose(at_double.mean() / at_trained.mean(), 2.0, rtol=1e-5)
    save_network(network, tmp_path / 'other.safetensors', trained_size=(96, 128))
    mixed = _painted_depth([tmp_path / 'w.safetensors', tmp_path / 'other.safetensors'], (96, 128))
    np.testing.assert_allclose(mixed, at_double, rtol=1e-6)       # the depth network's (the first) trained width
    save_network(network, tmp_path / 'unknown.safetensors')      # no trained size: taken as the processing size
    np.testing.assert_allclose(_painted_depth(tmp_path / 'unknown.safetensors', (96, 128)), at_trained.mean(),
                               rtol=1e-5)


def test_training_keeps_the_canonical_focal_length_in_pixels(tmp_path):
    small = TrainingSet.from_frames([render_frame(5, 64, 48, preset='wide')])
    large = TrainingSet.from_frames([render_frame(5, 128, 96, preset='wide')])
    train(small, TINY, TrainOptions(out=tmp_path / 'small', steps=1, progress=False))
    grown = train(large, TINY, TrainOptions(out=tmp_path / 'large', steps=1, progress=False, crop=(64, 64),
                                            init=tmp_path / 'small' / 'weights.safetensors'))
    assert grown.canonical_focal == pytest.approx(CANONICAL_FOCAL / 2)      # the same 46 pixels, at 128 wide
    assert trained_size(tmp_path / 'large' / 'weights.safetensors') == (96, 128)    # the frames' size, not the crop's
    # a checkpoint written at 64 wide, resumed on 128-wide frames
    train(small, TINY, TrainOptions(out=tmp_path / 'resumed', steps=1, checkpoint_every=1, progress=False))
    resumed = train(large, TINY, TrainOptions(out=tmp_path / 'resumed', steps=2, resume=True, progress=False))
    assert resumed.canonical_focal == pytest.approx(CANONICAL_FOCAL / 2)
    # weights that do not record their size keep their own canonical focal length
    network = VisionBananaNet(TINY)
    network.canonical_focal = 0.5
    save_network(network, tmp_path / 'unsized.safetensors')
    kept = train(large, TINY, TrainOptions(out=tmp_path / 'kept', steps=1, progress=False,
                                           init=tmp_path / 'unsized.safetensors'))
    assert kept.canonical_focal == pytest.approx(0.5)


def test_served_models_give_the_canonical_focal_length_at_their_size(weights, tmp_path):
    network = load_network(weights / 'canonical.safetensors')
    save_network(network, tmp_path / 'w.safetensors', trained_size=(48, 64))
    assert json.loads(parameters(network, tmp_path / 'w.safetensors', 128)[CANONICAL_FOCAL_KEY]) == \
        pytest.approx(CANONICAL_FOCAL / 2)
    assert json.loads(parameters(network, tmp_path / 'w.safetensors', 64)[CANONICAL_FOCAL_KEY]) == \
        pytest.approx(CANONICAL_FOCAL)


def test_training_records_canonical_depth_unless_told_otherwise(tmp_path):
    data = TrainingSet.from_frames([render_frame(5, 64, 48, preset='wide')])
    canonical = train(data, TINY, TrainOptions(out=tmp_path / 'c', steps=1, progress=False))
    metric = train(data, TINY, TrainOptions(out=tmp_path / 'm', steps=1, canonical_depth=False, progress=False))
    assert canonical.canonical_focal == CANONICAL_FOCAL and metric.canonical_focal is None
    assert load_network(tmp_path / 'c' / 'weights.safetensors').canonical_focal == pytest.approx(CANONICAL_FOCAL)
    assert load_network(tmp_path / 'm' / 'weights.safetensors').canonical_focal is None


def test_eval_passes_the_frames_intrinsics_unless_withheld(weights, tmp_path, capsys):
    from vision_banana_ros.cli import main
    from vision_banana_ros.world import write_dataset
    write_dataset(tmp_path / 'set', 2, seed=3, size=(64, 48), progress=False, preset='wide')
    base = ['eval', '--json', '--data', str(tmp_path / 'set'), '--size', '64x48']
    results = []
    for path, extra in (('canonical', []), ('canonical', ['--no-intrinsics']), ('metric', []),
                        ('metric', ['--no-intrinsics'])):
        assert main(base + ['--weights', str(weights / f'{path}.safetensors')] + extra) == 0
        results.append(json.loads(capsys.readouterr().out)['abs_rel'])
    assert results[0] != results[1]        # the focal length scales canonical depth
    assert results[2] == results[3]        # and is ignored by metric weights
