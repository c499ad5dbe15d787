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

"""The experts backend loads real (tiny, random) transformers checkpoints from disk through from_pretrained."""
import shutil

import numpy as np
import pytest
from tiny_experts import save
import torch

from vision_banana_ros.backends.experts import ExpertsBackend
from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.tasks import TASKS

transformers = pytest.importorskip('transformers')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('hf')
    save('segformer', root / 'segformer')
    save('depth_anything', root / 'depth_anything')
    return root


def test_experts_match_the_unified_backend_in_shapes_and_units(checkpoints, tiny_weights):
    experts = ExpertsBackend(str(checkpoints / 'segformer'), str(checkpoints / 'depth_anything'),
                             processing_size=(56, 84))
    unified = UnifiedBackend(tiny_weights, processing_size=(64, 96))
    frames = [FrameRequest('cam', np.random.default_rng(i).integers(0, 256, (60, 80, 3), dtype=np.uint8))
              for i in range(2)]
    ours, theirs = (BatchRunner(b, TASKS).run(frames) for b in (unified, experts))
    for a, b in zip(ours, theirs):
        for name in ('labels', 'confidence', 'depth', 'normals'):
            x, y = getattr(a, name), getattr(b, name)
            assert x.shape == y.shape and x.dtype == y.dtype, name
        assert set(np.unique(b.labels)) <= set(range(19))
        assert 0.0 <= b.confidence.min() and b.confidence.max() <= 1.0
        assert np.nanmax(b.depth) <= 80.0 and np.nanmin(b.depth) > 0     # metres, from the metric head
        finite = np.isfinite(b.normals).all(-1)
        np.testing.assert_allclose(np.linalg.norm(b.normals[finite], axis=-1), 1.0, atol=1e-4)
        assert {k: v.shape for k, v in b.encodings.items()} == {k: v.shape for k, v in a.encodings.items()}


def test_frames_of_different_sizes_in_one_batch_are_each_seen_at_their_own(checkpoints):
    """Experts resize each frame by their processor's rule: a 16:9 camera batched after a 4:3 one must not be
    squashed to the 4:3 frame's shape (its answers would depend on which camera came first).
    """
    experts = ExpertsBackend(str(checkpoints / 'segformer'), str(checkpoints / 'depth_anything'))
    runner = BatchRunner(experts, TASKS)
    small, wide = (FrameRequest(name, np.random.default_rng(i).integers(0, 256, shape, dtype=np.uint8))
                   for i, (name, shape) in enumerate([('small', (48, 64, 3)), ('wide', (54, 96, 3))]))
    alone = [runner.run([frame])[0] for frame in (small, wide)]
    for batch in ([small, wide], [wide, small]):
        together = {r.camera_id: r for r in runner.run(batch)}
        for a in alone:
            b = together[a.camera_id]
            assert b.depth.shape == a.depth.shape
            np.testing.assert_allclose(b.depth, a.depth, rtol=1e-4)
            np.testing.assert_array_equal(b.labels, a.labels)


def test_depth_only_experts_and_clear_errors(checkpoints, tmp_path):
    depth_only = ExpertsBackend(depth=str(checkpoints / 'depth_anything'), processing_size=(56, 84))
    assert depth_only.tasks == ('depth', 'normals')
    with pytest.raises(ValueError, match='tasks'):
        BatchRunner(depth_only, TASKS)
    with pytest.raises(ValueError, match=f'{tmp_path / "missing"} is neither a checkpoint directory nor a hub id'):
        ExpertsBackend(segmentation=str(tmp_path / 'missing'))
    with pytest.raises(ValueError, match='at least one'):
        ExpertsBackend()


def test_relative_depth_and_foreign_classes_are_refused(checkpoints, tmp_path):
    backbone = transformers.Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                                         intermediate_size=32, out_indices=[1, 2, 3, 4], patch_size=14,
                                         image_size=56, reshape_hidden_states=False)
    relative = transformers.DepthAnythingForDepthEstimation(transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 8, 16, 16], fusion_hidden_size=16,
        head_hidden_size=8, depth_estimation_type='relative'))
    relative.save_pretrained(tmp_path / 'relative')
    with pytest.raises(ValueError, match='relative depth'):
        ExpertsBackend(depth=str(tmp_path / 'relative'))
    config = transformers.SegformerConfig.from_pretrained(checkpoints / 'segformer')
    model = transformers.SegformerForSemanticSegmentation.from_pretrained(checkpoints / 'segformer')
    from vision_banana_ros.codecs import CITYSCAPES
    names = list(reversed(CITYSCAPES.names))
    model.config.id2label = {i: name.replace(' ', '_').title() for i, name in enumerate(names)}
    model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    model.save_pretrained(tmp_path / 'reversed')
    shutil.copy(checkpoints / 'segformer' / 'preprocessor_config.json', tmp_path / 'reversed')
    reordered = ExpertsBackend(segmentation=str(tmp_path / 'reversed'), processing_size=(56, 84))
    assert reordered.class_ids.tolist() == list(reversed(CITYSCAPES.ids))     # matched by name, not position
    model.config.id2label = {i: f'ade class {i}' for i in range(config.num_labels)}
    model.save_pretrained(tmp_path / 'foreign')
    shutil.copy(checkpoints / 'segformer' / 'preprocessor_config.json', tmp_path / 'foreign')
    with pytest.raises(ValueError, match='do not match the palette'):
        ExpertsBackend(segmentation=str(tmp_path / 'foreign'))


def test_normals_use_each_frame_intrinsics(checkpoints):
    from vision_banana_ros.geometry import Intrinsics
    experts = ExpertsBackend(depth=str(checkpoints / 'depth_anything'), processing_size=(56, 84), hfov_deg=90.0)
    rows = torch.arange(56, dtype=torch.float32)[:, None].expand(56, 84)
    floor = (200.0 / (rows - 20.0).clamp(min=1.0))[None].repeat(3, 1, 1)      # a ground plane: nearer lower down
    cameras = [None, Intrinsics.from_fov(84, 56, 90.0), Intrinsics.from_fov(84, 56, 40.0)]
    raw = {'size': (56, 84), 'depth': transformers.modeling_outputs.DepthEstimatorOutput(predicted_depth=floor)}
    fallback, same, narrow = experts.decode(raw, ('normals',), cameras).normals
    torch.testing.assert_close(same, fallback, equal_nan=True)
    finite = torch.isfinite(narrow).all(0) & torch.isfinite(fallback).all(0)
    angle = torch.rad2deg(torch.arccos((narrow * fallback).sum(0)[finite].clamp(-1, 1)))
    assert float(angle.mean()) > 2.0
