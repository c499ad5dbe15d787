"""The experts backend loads real (tiny, random) transformers checkpoints from disk through from_pretrained."""
import numpy as np
import pytest
import torch

from vision_banana_ros.backends.experts import ExpertsBackend
from vision_banana_ros.backends.unified import UnifiedBackend
from vision_banana_ros.engine import BatchRunner, FrameRequest
from vision_banana_ros.tasks import TASKS

transformers = pytest.importorskip('transformers')


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('hf')
    torch.manual_seed(0)
    seg = transformers.SegformerForSemanticSegmentation(transformers.SegformerConfig(
        num_labels=19, hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 1, 1],
        decoder_hidden_size=16))
    seg.save_pretrained(root / 'segformer')
    backbone = transformers.Dinov2Config(hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                                         intermediate_size=32, out_indices=[1, 2, 3, 4], patch_size=14,
                                         image_size=56, reshape_hidden_states=False)
    depth = transformers.DepthAnythingForDepthEstimation(transformers.DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=16, neck_hidden_sizes=[8, 8, 16, 16], fusion_hidden_size=16,
        head_hidden_size=8, depth_estimation_type='metric', max_depth=80))
    depth.save_pretrained(root / 'depth_anything')
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


def test_depth_only_experts_and_clear_errors(checkpoints, tmp_path):
    depth_only = ExpertsBackend(depth=str(checkpoints / 'depth_anything'), processing_size=(56, 84))
    assert depth_only.tasks == ('depth', 'normals')
    with pytest.raises(ValueError, match='tasks'):
        BatchRunner(depth_only, TASKS)
    with pytest.raises(ValueError, match=str(tmp_path / 'missing')):
        ExpertsBackend(segmentation=str(tmp_path / 'missing'))
    with pytest.raises(ValueError, match='at least one'):
        ExpertsBackend()
